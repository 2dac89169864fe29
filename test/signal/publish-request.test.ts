import { describe, expect, it } from 'vitest';
import { SigcastError } from '../../src/errors.js';
import { planPublish } from '../../src/signal/publish-request.js';
import { SignalSchema } from '../../src/signal/schema.js';

const ok = { symbol: 'BTCUSDT', side: 'BUY', strength: 0.5 };

function rejection(body: unknown, maxBatch = 1000): SigcastError {
  try {
    planPublish(body, maxBatch);
  } catch (error) {
    if (error instanceof SigcastError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('planPublish', () => {
  it('accepts one signal, an array, or {signals}', () => {
    expect(planPublish(ok, 10).batches[0]!.signals).toHaveLength(1);
    expect(planPublish([ok, ok], 10).batches[0]!.signals).toHaveLength(2);
    expect(planPublish({ signals: [ok, ok, ok] }, 10).batches[0]!.signals).toHaveLength(3);
  });

  it('stamps ts and id when absent and keeps them when given', () => {
    const [stamped, given] = planPublish([ok, { ...ok, ts: 5, id: 'abc' }], 10, 1234).batches[0]!.signals;
    expect(stamped!.ts).toBe(1234);
    expect(stamped!.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(given).toMatchObject({ ts: 5, id: 'abc' });
  });

  it('keeps every field of the signal schema (and only those) in the stored signal', () => {
    const full = { symbol: 'BTCUSDT', side: 'SELL', strength: 0.25, price: 64_000.5, strategy: 'mean-revert', ts: 42, id: 'full-1', meta: { k: 'v', n: 1 } };
    expect(Object.keys(full).sort()).toEqual(Object.keys(SignalSchema.shape).sort());
    const [stored] = planPublish({ ...full, channels: ['ALL'] }, 10).batches[0]!.signals;
    expect(stored).toEqual(full);
  });

  it('groups by channel (default: the symbol) and keeps request order in placements', () => {
    const plan = planPublish([ok, { ...ok, symbol: 'ETHUSDT' }, { ...ok, channels: ['strategy.x', 'BTCUSDT'] }], 10);
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
});
