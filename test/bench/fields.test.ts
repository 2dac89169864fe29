import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { KEY, numberAfter, numberAt, stringAfter } from '../../bench/clients/fields.js';
import { EntryReader, msgpackNumber } from '../../bench/clients/sigcast-entry.js';
import { LatencyRecorder, newHistogram } from '../../bench/lib/hist.js';
import { ENCODINGS, type Encoding } from '../../src/protocol/encoding.js';
import type { Entry } from '../../src/signal/schema.js';

/** The load generator reads entry frames from their bytes: it must read what a full decode reads. */
function entry(channel: string, seq: number, sent: number): Entry {
  return {
    channel,
    seq,
    epoch: 'mwvbtbzif39bbb35',
    ts: Math.floor(sent),
    signal: { symbol: channel, side: 'BUY', strength: 0.75, price: 43125.5, strategy: 'bench', meta: { sent, n: seq }, ts: Math.floor(sent), id: '01JDRAW0000000000000000001' },
  };
}

function frameBytes(value: Entry, encoding: Encoding): Buffer {
  const { payload } = ENCODINGS[encoding].encodeEntry(value);
  return Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload);
}

describe('EntryReader', () => {
  it.each(['json', 'msgpack'] as const)('reads channel, seq, send time and epoch of sigcast %s entry frames, frame after frame', (encoding) => {
    const reader = new EntryReader();
    fc.assert(
      fc.property(
        fc.array(fc.record({ channel: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/), seq: fc.integer({ min: 1, max: 2 ** 40 }), sent: fc.double({ min: 1e12, max: 2e12, noNaN: true }) }), { minLength: 1, maxLength: 20 }),
        (items) => {
          for (const item of items) {
            const sent = Math.round(item.sent * 10_000) / 10_000;
            expect(reader.read(frameBytes(entry(item.channel, item.seq, sent), encoding), encoding === 'msgpack')).toBe(true);
            expect([reader.channel, reader.seq, reader.epoch(encoding === 'msgpack')]).toEqual([item.channel, item.seq, 'mwvbtbzif39bbb35']);
            expect(reader.sent).toBeCloseTo(sent, 3);
          }
        },
      ),
    );
  });

  it('reads every seq and send time of a JSON entries frame, in order; an entry frame or msgpack is not one', () => {
    const reader = new EntryReader();
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/),
        fc.array(fc.record({ seq: fc.integer({ min: 1, max: 2 ** 40 }), sent: fc.double({ min: 1e12, max: 2e12, noNaN: true }) }), { minLength: 2, maxLength: 100 }),
        (channel, items) => {
          const batch = items.map((item) => entry(channel, item.seq, Math.round(item.sent * 10_000) / 10_000));
          const bytes = Buffer.from(ENCODINGS.json.encodeEntries(channel, batch).payload as Uint8Array);
          const seen: Array<[number, number]> = [];
          expect(reader.read(bytes, false)).toBe(false);
          expect(reader.readEntries(bytes, false, (seq, sent) => seen.push([seq, sent]))).toBe(true);
          expect(reader.channel).toBe(channel);
          expect(reader.epoch(false)).toBe('mwvbtbzif39bbb35');
          expect(seen.map(([seq]) => seq)).toEqual(batch.map((e) => e.seq));
          seen.forEach(([, sent], i) => expect(sent).toBeCloseTo(batch[i]!.signal.meta!['sent'] as number, 3));
        },
      ),
    );
    const one = frameBytes(entry('BTC', 1, 1.7e12), 'json');
    expect(reader.readEntries(one, false, () => undefined)).toBe(false);
    const packed = Buffer.from(ENCODINGS.msgpack.encodeEntries('BTC', [entry('BTC', 1, 1.7e12), entry('BTC', 2, 1.7e12)]).payload as Uint8Array);
    expect(reader.readEntries(packed, true, () => undefined)).toBe(false);
  });

  it('leaves every other frame to a full decode', () => {
    const reader = new EntryReader();
    expect(reader.read(Buffer.from(ENCODINGS.json.encode({ type: 'live', channel: 'BTC', epoch: 'e', seq: 3 }).payload as string), false)).toBe(false);
    expect(reader.read(Buffer.from(ENCODINGS.msgpack.encode({ type: 'subscribed', channel: 'BTC', epoch: 'e', headSeq: 3, replay: 0 }).payload as Uint8Array), true)).toBe(false);
    expect(reader.read(Buffer.from('[1,2,3]'), false)).toBe(false);
    expect(reader.read(Buffer.from([0x93, 1, 2, 3]), true)).toBe(false);
  });
});

describe('byte-level numbers and strings', () => {
  it('parses JSON numbers as Number does', () => {
    for (const text of ['0', '7', '-12', '1796163857150.1235', '0.5', '43125.5', '1e3', '-2.5E-2', '  42']) {
      expect(numberAt(Buffer.from(`${text},`), 0)).toBeCloseTo(Number(text), 6);
    }
    expect(numberAt(Buffer.from('x'), 0)).toBeNaN();
    expect(numberAfter(Buffer.from('{"seq":12,"n":3}'), KEY.n)).toBe(3);
    expect(numberAfter(Buffer.from('{"seq":12}'), KEY.n)).toBeNaN();
    expect(stringAfter(Buffer.from('{"channel":"c42","x":1}'), KEY.channel)).toBe('c42');
  });

  it('reads every msgpack number encoding', () => {
    for (const value of [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 40, -1, -32, -33, -200, -40_000, -(2 ** 31), 0.5, 1796163857150.1235]) {
      expect(msgpackNumber(Buffer.from(pack(value)), 0)).toBe(value);
    }
    expect(msgpackNumber(Buffer.from(pack('x')), 0)).toBeNaN();
  });
});

describe('LatencyRecorder', () => {
  it('gives the percentiles of an HDR histogram within its precision', () => {
    const recorder = new LatencyRecorder();
    const exact = newHistogram();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60_000_000 }), { minLength: 1, maxLength: 500 }), (values) => {
        for (const value of values) {
          recorder.record(value);
          exact.recordValue(value);
        }
      }),
    );
    const shipped = recorder.toHistogram();
    expect(shipped.totalCount).toBe(exact.totalCount);
    for (const percentile of [1, 50, 90, 99, 99.9, 100]) {
      const expected = exact.getValueAtPercentile(percentile);
      expect(Math.abs(shipped.getValueAtPercentile(percentile) - expected)).toBeLessThanOrEqual(Math.max(1, expected * 0.002));
    }
  });
});
