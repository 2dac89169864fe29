import { describe, expect, it } from 'vitest';
import { SigcastError } from '../../src/errors.js';
import fc from 'fast-check';
import { planPublish, type PublishLimits } from '../../src/signal/publish-request.js';
import { SignalSchema, type Signal } from '../../src/signal/schema.js';
import { signalBytes, signalBytesUpperBound } from '../../src/signal/signal-size.js';

const ok = { symbol: 'BTCUSDT', side: 'BUY', strength: 0.5 };

/** The defaults of MAX_CHANNELS_PER_SIGNAL and MAX_SIGNAL_BYTES, with a batch limit of `maxBatch`. */
function limits(maxBatch: number, more: Partial<PublishLimits> = {}): PublishLimits {
  return { maxBatch, maxChannelsPerSignal: 16, maxSignalBytes: 16384, ...more };
}

function rejection(body: unknown, maxBatch = 1000, more: Partial<PublishLimits> = {}): SigcastError {
  try {
    planPublish(body, limits(maxBatch, more));
  } catch (error) {
    if (error instanceof SigcastError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('planPublish', () => {
  it('accepts one signal, an array, or {signals}', () => {
    expect(planPublish(ok, limits(10)).batches[0]!.signals).toHaveLength(1);
    expect(planPublish([ok, ok], limits(10)).batches[0]!.signals).toHaveLength(2);
    expect(planPublish({ signals: [ok, ok, ok] }, limits(10)).batches[0]!.signals).toHaveLength(3);
  });

  it('stamps ts and id when absent and keeps them when given', () => {
    const [stamped, given] = planPublish([ok, { ...ok, ts: 5, id: 'abc' }], limits(10), 1234).batches[0]!.signals;
    expect(stamped!.ts).toBe(1234);
    expect(stamped!.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(given).toMatchObject({ ts: 5, id: 'abc' });
  });

  it('keeps every field of the signal schema (and only those) in the stored signal', () => {
    const full = { symbol: 'BTCUSDT', side: 'SELL', strength: 0.25, price: 64_000.5, strategy: 'mean-revert', ts: 42, id: 'full-1', meta: { k: 'v', n: 1 } };
    expect(Object.keys(full).sort()).toEqual(Object.keys(SignalSchema.shape).sort());
    const [stored] = planPublish({ ...full, channels: ['ALL'] }, limits(10)).batches[0]!.signals;
    expect(stored).toEqual(full);
  });

  it('groups by channel (default: the symbol) and keeps request order in placements', () => {
    const plan = planPublish([ok, { ...ok, symbol: 'ETHUSDT' }, { ...ok, channels: ['strategy.x', 'BTCUSDT'] }], limits(10));
    expect(plan.batches.map((b) => [b.channel, b.signals.length])).toEqual([
      ['BTCUSDT', 2],
      ['ETHUSDT', 1],
      ['strategy.x', 1],
    ]);
    expect(plan.placements).toEqual([
      [{ batch: 0, position: 0 }],
      [{ batch: 1, position: 0 }],
      [
        { batch: 2, position: 0 },
        { batch: 0, position: 1 },
      ],
    ]);
    expect('channels' in plan.batches[2]!.signals[0]!).toBe(false);
  });

  it('rejects the whole batch with every bad item, index and field', () => {
    const error = rejection([ok, { ...ok, side: 'BUYX' }, ok, { symbol: 'X', strength: 2, side: 'SELL' }]);
    expect(error.code).toBe('invalid_signal');
    expect(error.status).toBe(400);
    expect(error.details).toEqual([
      { index: 1, path: 'side', message: expect.any(String) },
      { index: 3, path: 'strength', message: expect.any(String) },
    ]);
  });

  it('rejects unknown fields, bad channel names, oversized meta', () => {
    expect(rejection([{ ...ok, colour: 'red' }]).details?.[0]?.index).toBe(0);
    expect(rejection([{ ...ok, channels: ['bad{tag}'] }]).details?.[0]?.path).toBe('channels.0');
    const meta = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    expect(rejection([{ ...ok, meta }]).details?.[0]?.path).toBe('meta');
    expect(rejection([{ ...ok, symbol: 'BTC/USDT' }]).details?.[0]?.path).toBe('symbol');
  });

  it('rejects an empty or oversized batch', () => {
    expect(rejection([]).code).toBe('empty_batch');
    expect(rejection({ signals: [] }).code).toBe('empty_batch');
    const tooMany = rejection(Array.from({ length: 11 }, () => ok), 10);
    expect(tooMany.code).toBe('batch_too_large');
    expect(tooMany.status).toBe(413);
  });

  it('rejects non-objects as items', () => {
    expect(rejection([42]).details?.[0]).toMatchObject({ index: 0 });
    expect(rejection('hello').code).toBe('invalid_signal');
  });

  it('rejects a signal sent to more channels than MAX_CHANNELS_PER_SIGNAL (repeats count once)', () => {
    const channels = (n: number) => Array.from({ length: n }, (_, i) => `C${i}`);
    expect(planPublish({ ...ok, channels: channels(4) }, limits(10, { maxChannelsPerSignal: 4 })).batches).toHaveLength(4);
    expect(planPublish({ ...ok, channels: [...channels(4), 'C0'] }, limits(10, { maxChannelsPerSignal: 4 })).batches).toHaveLength(4);
    const error = rejection([ok, { ...ok, channels: channels(5) }], 10, { maxChannelsPerSignal: 4 });
    expect(error.code).toBe('invalid_signal');
    expect(error.details).toEqual([{ index: 1, path: 'channels', message: 'at most 4 channels per signal' }]);
    // The schema's own ceiling stays, whatever is configured.
    expect(rejection({ ...ok, channels: channels(257) }, 10, { maxChannelsPerSignal: 256 }).details?.[0]?.path).toBe('channels');
  });

  it('rejects a signal over MAX_SIGNAL_BYTES as stored JSON, and nothing of its batch is planned', () => {
    const big = { ...ok, id: 'big-1', ts: 1, meta: { note: 'x'.repeat(256), more: 'y'.repeat(256) } };
    const size = signalBytes(planPublish(big, limits(10)).batches[0]!.signals[0]!);
    expect(planPublish(big, limits(10, { maxSignalBytes: size })).batches).toHaveLength(1);
    const error = rejection([ok, big], 10, { maxSignalBytes: size - 1 });
    expect(error.code).toBe('invalid_signal');
    expect(error.details).toEqual([{ index: 1, path: '(item)', message: `the signal is ${size} bytes as JSON; at most ${size - 1}` }]);
  });

  it('the cheap size bound is never below the real size (so no signal over the limit slips through)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 256 });
    const signal = fc.record(
      {
        symbol: fc.constantFrom('BTCUSDT', 'A', 'X'.repeat(32)),
        side: fc.constantFrom('BUY', 'SELL', 'HOLD', 'CLOSE'),
        strength: fc.double({ min: 0, max: 1, noNaN: true }),
        price: fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true }),
        strategy: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
        ts: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(1e300)),
        id: fc.constantFrom('a', 'Z'.repeat(64)),
        meta: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)), { maxKeys: 32 }),
      },
      { requiredKeys: ['symbol', 'side', 'strength', 'ts', 'id'] },
    );
    fc.assert(
      fc.property(signal, (value) => {
        const stored = value as Signal;
        expect(signalBytesUpperBound(stored)).toBeGreaterThanOrEqual(signalBytes(stored));
      }),
      { numRuns: 2000 },
    );
  });
});
