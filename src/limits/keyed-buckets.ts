// One token bucket per key (a principal, an IP address), in bounded memory: a bucket that has
// refilled is the same as no bucket, so full ones are dropped, and past `maxKeys` the least
// recently used is forgotten (it starts again full: the bound on memory wins over the bound on rate).
import { fullBucket, isFull, take, type BucketLimits, type BucketState } from './token-bucket.js';

export interface KeyedBucketsOptions extends BucketLimits {
  maxKeys: number;
  now?: () => number;
}

/** How often full buckets are swept out, at most (ms). */
const SWEEP_EVERY_MS = 10_000;

export class KeyedBuckets {
  /** Map order is use order: the first entry is the least recently used. */
  private readonly buckets = new Map<string, BucketState>();
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(private readonly options: KeyedBucketsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes `cost` from `key`'s bucket: 0 when admitted, else how long to wait (ms) before it would be. */
  take(key: string, cost = 1): number {
    const now = this.now();
    const result = take(this.buckets.get(key) ?? fullBucket(this.options, now), cost, this.options, now);
    this.store(key, result.state, now);
    return result.admitted ? 0 : result.retryAfterMs;
  }

  /** How long until `key` could take `cost` (0: now), without taking anything. */
  waitFor(key: string, cost = 1): number {
    const state = this.buckets.get(key);
    if (!state) return 0;
    const now = this.now();
    const result = take(state, cost, this.options, now);
    return result.admitted ? 0 : result.retryAfterMs;
  }

  /** Keys currently held (full buckets may linger until the next sweep). */
  get size(): number {
    return this.buckets.size;
  }

  private store(key: string, state: BucketState, now: number): void {
    this.buckets.delete(key);
    this.buckets.set(key, state);
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
    while (this.buckets.size > this.options.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, state] of this.buckets) if (isFull(state, this.options, now)) this.buckets.delete(key);
  }
}
