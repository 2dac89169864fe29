import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../src/limits/auth-throttle.js';
import { ConnectionSlots } from '../../src/limits/connection-slots.js';
import { KeyedBuckets } from '../../src/limits/keyed-buckets.js';
import { fullBucket, take, type BucketState } from '../../src/limits/token-bucket.js';

describe('token bucket', () => {
  const limits = { rate: 10, burst: 5 };

  it('admits the burst at once, then the rate, and says how long to wait', () => {
    let state: BucketState = fullBucket(limits, 0);
    for (let i = 0; i < 5; i += 1) {
      const result = take(state, 1, limits, 0);
      expect(result.admitted).toBe(true);
      state = result.state;
    }
    const refused = take(state, 1, limits, 0);
    expect(refused).toMatchObject({ admitted: false, retryAfterMs: 100 });
    expect(take(refused.state, 1, limits, 100).admitted).toBe(true);
  });

  it('admits a cost over the burst only from a full bucket, leaving it in debt', () => {
    const big = take(fullBucket(limits, 0), 20, limits, 0);
    expect(big.admitted).toBe(true);
    expect(big.state.tokens).toBe(-15);
    // Back to one token after 1.6 s at 10/s; the big batch paid for its size.
    expect(take(big.state, 1, limits, 1500)).toMatchObject({ admitted: false, retryAfterMs: 100 });
    expect(take(big.state, 1, limits, 1600).admitted).toBe(true);
  });

  it('never admits more than burst + rate x time (fast-check)', () => {
    const steps = fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 4 })), { maxLength: 200 });
    fc.assert(
      fc.property(steps, (plan) => {
        let state = fullBucket(limits, 0);
        let now = 0;
        let admitted = 0;
        for (const [wait, cost] of plan) {
          now += wait;
          const result = take(state, cost, limits, now);
          state = result.state;
          if (result.admitted) admitted += cost;
        }
        return admitted <= limits.burst + (limits.rate * now) / 1000 + 1e-9;
      }),
      { numRuns: 500 },
    );
  });
});

describe('keyed buckets', () => {
  it('keeps one bucket per key, forgets the least recently used past maxKeys, and drops full ones', () => {
    let now = 0;
    const buckets = new KeyedBuckets({ rate: 1, burst: 2, maxKeys: 3, now: () => now });
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 1000]);
    expect(buckets.take('b', 2)).toBe(0);
    buckets.take('c');
    buckets.take('d');
    expect(buckets.size).toBe(3);
    // 'a' was the least recently used: forgotten, so it starts full again.
    expect(buckets.waitFor('a')).toBe(0);
    now = 60_000;
    buckets.take('e');
    expect(buckets.size).toBe(1);
  });
});

describe('connection slots', () => {
  it('counts in total and per address, refuses past either, and releases each slot once', () => {
    const slots = new ConnectionSlots({ maxTotal: 3, maxPerAddress: 2 });
    const a1 = slots.acquire('10.0.0.1');
    const a2 = slots.acquire('10.0.0.1');
    expect(slots.acquire('10.0.0.1')).toBe('too_many_connections');
    const b1 = slots.acquire('10.0.0.2');
    expect(slots.acquire('10.0.0.3')).toBe('at_capacity');
    if (typeof a1 === 'string' || typeof a2 === 'string' || typeof b1 === 'string') throw new Error('refused');
    a1.release();
    a1.release();
    expect(slots.open).toBe(2);
    expect(slots.heldBy('10.0.0.1')).toBe(1);
    a2.release();
    b1.release();
    expect([slots.open, slots.addresses]).toEqual([0, 0]);
    expect(typeof new ConnectionSlots({ maxTotal: 10, maxPerAddress: 0 }).acquire('x')).toBe('object');
  });
});

describe('auth throttle', () => {
  it('lets `burst` failures through, then refuses until one is forgiven per second', () => {
    let now = 0;
    const throttle = new AuthThrottle({ burst: 3, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      expect(throttle.waitFor('10.0.0.9')).toBe(0);
      throttle.failed('10.0.0.9');
    }
    expect(throttle.waitFor('10.0.0.9')).toBe(1000);
    expect(throttle.waitFor('10.0.0.10')).toBe(0);
    now = 1000;
    expect(throttle.waitFor('10.0.0.9')).toBe(0);
  });
});
