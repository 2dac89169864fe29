// A token bucket as a pure function over its state: `rate` tokens per second refill it up to
// `burst`. A cost larger than what is left waits; a cost larger than the whole burst is admitted
// when the bucket is full and leaves it in debt, so that big batches are slowed to the rate
// rather than refused for ever.

export interface BucketState {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export interface BucketLimits {
  /** Tokens per second. */
  rate: number;
  burst: number;
}

export type Take = { admitted: true; state: BucketState } | { admitted: false; state: BucketState; retryAfterMs: number };

export function fullBucket(limits: BucketLimits, now: number): BucketState {
  return { tokens: limits.burst, at: now };
}

export function refill(state: BucketState, limits: BucketLimits, now: number): BucketState {
  const elapsed = Math.max(0, now - state.at);
  return { tokens: Math.min(limits.burst, state.tokens + (elapsed * limits.rate) / 1000), at: Math.max(now, state.at) };
}

/** Takes `cost` tokens if there are enough (or a full bucket for a cost over the burst). */
export function take(state: BucketState, cost: number, limits: BucketLimits, now: number): Take {
  const current = refill(state, limits, now);
  const needed = Math.min(cost, limits.burst);
  if (current.tokens >= needed) return { admitted: true, state: { tokens: current.tokens - cost, at: current.at } };
  return { admitted: false, state: current, retryAfterMs: Math.ceil(((needed - current.tokens) * 1000) / limits.rate) };
}

/** Whether the bucket has refilled completely (so forgetting it changes nothing). */
export function isFull(state: BucketState, limits: BucketLimits, now: number): boolean {
  return refill(state, limits, now).tokens >= limits.burst;
}
