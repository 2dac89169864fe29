import { describe, expect, it } from 'vitest';
import { NewChannelLimiter } from '../../src/limits/new-channel-limiter.js';

describe('NewChannelLimiter', () => {
  it('gives each publisher a minute worth at once, refuses past it, and refills continuously', () => {
    let now = 0;
    const limiter = new NewChannelLimiter({ perMinute: 600, now: () => now });
    expect(limiter.tryTake('a', 600)).toBe(true);
    expect(limiter.tryTake('a', 1)).toBe(false);
    // Another publisher has its own bucket.
    expect(limiter.tryTake('b', 600)).toBe(true);
    now = 10_000; // 10 s: 100 more
    expect(limiter.tryTake('a', 101)).toBe(false);
    expect(limiter.tryTake('a', 100)).toBe(true);
    expect(limiter.waitMs('a', 60)).toBe(6000);
  });

  it('unused reservations go back; channels created beyond a reservation are charged, to a minute of debt at most', () => {
    let now = 0;
    const limiter = new NewChannelLimiter({ perMinute: 100, now: () => now });
    expect(limiter.tryTake('p', 100)).toBe(true);
    limiter.settle('p', 100, 3);
    expect(limiter.tryTake('p', 97)).toBe(true);
    expect(limiter.tryTake('p', 1)).toBe(false);
    limiter.settle('p', 0, 500);
    now = 60_000;
    expect(limiter.tryTake('p', 1)).toBe(false);
    now = 60_600;
    expect(limiter.tryTake('p', 1)).toBe(true);
  });

  it('forgets publishers whose bucket is full again, and bounds how many it tracks', () => {
    let now = 0;
    const limiter = new NewChannelLimiter({ perMinute: 60, maxPublishers: 3, now: () => now });
    for (const publisher of ['a', 'b', 'c', 'd']) limiter.tryTake(publisher, 60);
    expect(limiter.tracked).toBe(3);
    now = 120_000;
    limiter.tryTake('d', 1);
    limiter.settle('d', 1, 0);
    expect(limiter.tracked).toBe(2);
  });

  it('says plainly when one publish asks for more than a minute worth', () => {
    const limiter = new NewChannelLimiter({ perMinute: 10 });
    expect(limiter.refusal('x', 11).message).toContain('at most 10 per minute');
    expect(limiter.refusal('x', 11).status).toBe(429);
    expect(limiter.refusal('x', 11).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});
