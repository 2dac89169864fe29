// The own-append fast path rests on two pure functions: reading an announcement's span without
// parsing it, and building the entries an append stored from its own arguments. Both must agree
// with parsing what the append script writes, byte for byte.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppendResult } from '../../src/broker/broker.js';
import { appendedEntries, appendPart, parseAnnouncement, peekAnnouncement } from '../../src/broker/redis-scripts.js';
import { entryJson, parseStoredEntry, storedEntryText } from '../../src/signal/entry-json.js';
import { planPublish } from '../../src/signal/publish-request.js';
import type { Signal } from '../../src/signal/schema.js';

const LIMITS = { maxBatch: 1000, maxChannelsPerSignal: 16, maxSignalBytes: 16_384 };
const channelName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/);
const epoch = fc.stringMatching(/^[a-z0-9]{8,24}$/);
const metaValue = fc.oneof(fc.string({ maxLength: 40 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
/** What bots may publish: any valid item, -0 and unicode included. */
const publishItem = fc.record(
  {
    symbol: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$/),
    side: fc.constantFrom('BUY', 'SELL', 'HOLD', 'CLOSE'),
    strength: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(-0)),
    price: fc.double({ min: 1e-9, max: 1e12, noNaN: true }),
    strategy: fc.string({ minLength: 1, maxLength: 64 }),
    ts: fc.oneof(fc.integer({ min: 0, max: 2 ** 52 }), fc.constant(-0)),
    meta: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), metaValue, { maxKeys: 6 }),
  },
  { requiredKeys: ['symbol', 'side', 'strength'] },
);

/** What the append script stores for these signals (redis-lua.ts), joined as it announces them. */
function scriptAnnouncement(channel: string, epochId: string, firstSeq: number, ts: number, signals: readonly Signal[]): string {
  return signals.map((signal, i) => storedEntryText(channel, firstSeq + i, epochId, ts, JSON.stringify(signal))).join('\n');
}

describe('peekAnnouncement', () => {
  it('reads the span that parsing gives, for any channel, epoch, seqs and signals (fast-check)', () => {
    fc.assert(
      fc.property(channelName, epoch, fc.integer({ min: 1, max: 2 ** 50 }), fc.array(publishItem, { minLength: 1, maxLength: 5 }), (channel, epochId, firstSeq, items) => {
        const signals = planPublish(items, LIMITS).batches.flatMap((batch) => batch.signals);
        const message = scriptAnnouncement(channel, epochId, firstSeq, 1_700_000_000_000, signals);
        const parsed = parseAnnouncement(message)!;
        expect(peekAnnouncement(message, channel)).toEqual({ epoch: epochId, firstSeq: parsed[0]!.seq, lastSeq: parsed.at(-1)!.seq });
      }),
      { numRuns: 300 },
    );
  });

  it('gives up (the caller parses) on anything not in the script\'s shape or for another channel', () => {
    const good = storedEntryText('BTC', 7, 'e1', 1, '{"symbol":"BTC"}');
    expect(peekAnnouncement(good, 'BTC')).toEqual({ epoch: 'e1', firstSeq: 7, lastSeq: 7 });
    expect(peekAnnouncement(good, 'BT')).toBeUndefined();
    expect(peekAnnouncement(good, 'BTCX')).toBeUndefined();
    for (const bad of [
      '',
      '{"channel":"BTC"}',
      '{"channel":"BTC","seq":,"epoch":"e1"',
      '{"channel":"BTC","seq":07,"epoch":"e1","ts":1}',
      '{"channel":"BTC","seq":7,"epoch":"","ts":1}',
      '{"channel":"BTC","seq":7,"epoch":"e1',
      '{"channel":"BTC","seq":12345678901234567,"epoch":"e1","ts":1}',
      `${good}\n{"seq":8}`,
      `${good}\n${storedEntryText('BTC', 6, 'e1', 1, '{}')}`,
      `${good}\n${storedEntryText('BTC', 8, 'e2', 1, '{}')}`,
    ]) {
      expect(peekAnnouncement(bad, 'BTC'), bad).toBeUndefined();
    }
  });
});

describe('appendedEntries', () => {
  it('builds exactly the entries, and the stored text, that the announcement parses to (fast-check)', () => {
    fc.assert(
      fc.property(channelName, epoch, fc.integer({ min: 0, max: 2 ** 40 }), fc.array(publishItem, { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (channel, epochId, headSeq, items, duplicates) => {
        const signals = planPublish(items, LIMITS).batches.flatMap((batch) => batch.signals);
        const nowMs = 1_795_562_863_345;
        const part = appendPart(channel, 'candidate', signals);
        // A reply as the script gives it: duplicates keep their old seq, fresh ones count on from headSeq.
        let seq = headSeq;
        const result: AppendResult = {
          epoch: epochId,
          created: false,
          results: signals.map((signal, i) => (duplicates[i] ? { id: signal.id, seq: 1, duplicate: true } : { id: signal.id, seq: ++seq, duplicate: false })),
        };
        const fresh = signals.filter((_, i) => !duplicates[i]);
        const built = appendedEntries(channel, nowMs, signals, part, result);
        if (fresh.length === 0) {
          expect(built).toEqual([]);
          return;
        }
        const announced = parseAnnouncement(scriptAnnouncement(channel, epochId, headSeq + 1, nowMs, fresh))!;
        expect(built).toEqual(announced);
        // Same bytes on the wire (JSON frames are spliced from this text), and the same values
        // when serialized anew (msgpack frames): -0 was published as 0.
        expect(built.map(entryJson)).toEqual(announced.map(entryJson));
        expect(built.map((entry) => JSON.stringify(entry))).toEqual(announced.map((entry) => JSON.stringify(entry)));
        for (const [i, entry] of built.entries()) {
          expect(Object.is(entry.signal.strength, -0)).toBe(false);
          expect(parseStoredEntry(entryJson(entry))).toStrictEqual(announced[i]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
