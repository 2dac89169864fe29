import { describe, expect, it } from 'vitest';
import { ENCODINGS } from '../../src/protocol/encoding.js';
import { EntriesFrameSchema, EntryFrameSchema, MAX_ENTRIES_PER_FRAME, ServerFrameSchema } from '../../src/protocol/frames.js';
import { batchFrames } from '../../src/hub/batch-frames.js';
import { CachedEntry } from '../../src/hub/cached-entry.js';
import type { Entry } from '../../src/signal/schema.js';

function entry(seq: number): Entry {
  return { channel: 'BTCUSDT', seq, epoch: 'mwvbtbzif39bbb35', ts: 1_795_562_940_654 + seq, signal: { symbol: 'BTCUSDT', side: 'BUY', strength: 0.5, ts: 1_795_562_940_650, id: `bot-${seq}` } };
}

const cached = (count: number): CachedEntry[] => Array.from({ length: count }, (_, i) => new CachedEntry(entry(i + 1)));

describe('batchFrames', () => {
  it.each(['json', 'msgpack'] as const)('%s: chunks of at most MAX_ENTRIES_PER_FRAME, a lone entry as its entry frame, every entry once in order', (encoding) => {
    const spec = ENCODINGS[encoding];
    const decode = (payload: string | Uint8Array) => ServerFrameSchema.parse(spec.decode(typeof payload === 'string' ? Buffer.from(payload) : payload));
    for (const count of [1, 2, 10, MAX_ENTRIES_PER_FRAME, MAX_ENTRIES_PER_FRAME + 1, 250]) {
      const entries = cached(count);
      const frames = batchFrames('BTCUSDT', entries, encoding).map((frame) => decode(frame.payload));
      expect(frames).toHaveLength(Math.ceil(count / MAX_ENTRIES_PER_FRAME));
      const seqs = frames.flatMap((frame) => (frame.type === 'entries' ? frame.entries.map((e) => e.seq) : frame.type === 'entry' ? [frame.seq] : []));
      expect(seqs).toEqual(entries.map((e) => e.seq));
      for (const frame of frames) {
        if (frame.type === 'entries') expect(EntriesFrameSchema.parse(frame).entries).toEqual(frame.entries.map((e) => entry(e.seq)));
        else expect(EntryFrameSchema.parse(frame)).toEqual({ type: 'entry', ...entry(frame.type === 'entry' ? frame.seq : 0) });
      }
      if (count === MAX_ENTRIES_PER_FRAME + 1) expect(frames.at(-1)!.type).toBe('entry');
    }
  });

  it('a lone entry is the very frame an exact subscriber gets (encoded once)', () => {
    const [only] = cached(1);
    expect(batchFrames('BTCUSDT', [only!], 'json')[0]).toBe(only!.frame('json'));
  });
});
