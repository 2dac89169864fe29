import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import { describe, expect, it } from 'vitest';
import { parseAnnouncement } from '../../src/broker/redis-scripts.js';
import { CachedEntry } from '../../src/hub/cached-entry.js';
import type { Entry } from '../../src/signal/schema.js';

const entry: Entry = {
  channel: 'BTCUSDT',
  seq: 7,
  epoch: 'mwvbroc1e237bb3a',
  ts: 1_795_562_863_345,
  signal: { symbol: 'BTCUSDT', side: 'SELL', strength: 0.7, price: 64_250.5, meta: { note: 'line\nbreak "quoted" ü' }, ts: 1_795_562_863_343, id: 'x1' },
};
/** As the append script builds it: field by field, the signal as JSON.stringify wrote it. */
const stored = `{"channel":"BTCUSDT","seq":7,"epoch":"mwvbroc1e237bb3a","ts":1795562863345,"signal":${JSON.stringify(entry.signal)}}`;
const text = (payload: string | Uint8Array) => (typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));

describe('CachedEntry', () => {
  it('splices the JSON frame from the stored text, byte for byte what serializing would give', () => {
    const [fromRedis] = parseAnnouncement(`${stored}\n${stored.replace('"seq":7', '"seq":8')}`)!;
    const frame = new CachedEntry(fromRedis!).frame('json');
    expect(frame.binary).toBe(false);
    expect(text(frame.payload)).toBe(JSON.stringify({ type: 'entry', ...entry }));
  });

  it('serializes entries that were never stored as text (memory broker)', () => {
    const frame = new CachedEntry(entry).frame('json');
    expect(JSON.parse(text(frame.payload))).toEqual({ type: 'entry', ...entry });
  });

  it('encodes each encoding once and shares the frame', () => {
    const cached = new CachedEntry(entry);
    expect(cached.frame('json')).toBe(cached.frame('json'));
    const msgpack = cached.frame('msgpack');
    expect(msgpack.binary).toBe(true);
    expect(cached.frame('msgpack')).toBe(msgpack);
    expect(new Packr(MSGPACK_OPTIONS).unpack(msgpack.payload as Uint8Array)).toEqual({ type: 'entry', ...entry });
  });
});

describe('parseAnnouncement', () => {
  it('reads one entry per line, oldest first, and refuses a malformed message', () => {
    const batch = parseAnnouncement(`${stored}\n${stored.replace('"seq":7', '"seq":8')}`);
    expect(batch?.map((e) => e.seq)).toEqual([7, 8]);
    expect(batch?.[0]).toEqual(entry);
    expect(parseAnnouncement('{"channel":')).toBeUndefined();
  });
});
