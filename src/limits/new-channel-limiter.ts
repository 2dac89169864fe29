// How many channels each publisher may create per minute (NEW_CHANNELS_PER_MINUTE): a token
// bucket per publisher (token-bucket.ts) that holds a minute's worth and refills continuously. A
// channel is new when it has no history; every channel costs Redis three keys for
// HISTORY_TTL_SECONDS, so creating them is what one request must not be able to do by the ten
// thousand. Unlike the publish rate, a request that asks for more than is left is refused whole
// (nothing stored), and the tokens it reserved but did not use go back.
import { SigcastError } from '../errors.js';
import { fullBucket, refill, type BucketLimits, type BucketState } from './token-bucket.js';

export interface NewChannelLimiterOptions {
  perMinute: number;
  /** Publishers tracked at most; the least recently active are forgotten first. @default 10000 */
  maxPublishers?: number;
  now?: () => number;
}

const DEFAULT_MAX_PUBLISHERS = 10_000;

export class NewChannelLimiter {
  /** Only publishers below a full bucket; insertion order is recency (least recent first). */
  private readonly buckets = new Map<string, BucketState>();
  private readonly limits: BucketLimits;
  private readonly maxPublishers: number;
  private readonly now: () => number;

  constructor(private readonly options: NewChannelLimiterOptions) {
    this.limits = { rate: options.perMinute / 60, burst: options.perMinute };
    this.maxPublishers = options.maxPublishers ?? DEFAULT_MAX_PUBLISHERS;
    this.now = options.now ?? Date.now;
  }

  /** Publishers with a bucket that is not full. */
  get tracked(): number {
    return this.buckets.size;
  }

  /** Takes `count` tokens when the publisher has them all; takes nothing otherwise. */
  tryTake(publisher: string, count: number): boolean {
    if (count <= 0) return true;
    const tokens = this.tokensOf(publisher);
    if (tokens < count) return false;
    this.store(publisher, tokens - count);
    return true;
  }

  /**
   * After the appends: `reserved` tokens were taken, `created` channels were actually created.
   * Unused ones go back; channels created beyond the reservation (one expired in between) are
   * charged, down to a minute's debt at most.
   */
  settle(publisher: string, reserved: number, created: number): void {
    if (reserved === created) return;
    this.store(publisher, Math.max(-this.options.perMinute, this.tokensOf(publisher) + reserved - created));
  }

  /** How long until the publisher has `count` tokens (ms; 0: now). */
  waitMs(publisher: string, count: number): number {
    const missing = Math.min(count, this.options.perMinute) - this.tokensOf(publisher);
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.limits.rate);
  }

  /** 429 for a publish that would create `fresh` channels it may not create now. */
  refusal(publisher: string, fresh: number): SigcastError {
    const { perMinute } = this.options;
    const waitMs = this.waitMs(publisher, fresh);
    const message =
      fresh > perMinute
        ? `this publish would create ${fresh} new channels; a publisher may create at most ${perMinute} per minute`
        : `this publish would create ${fresh} new channels; this publisher may create ${perMinute} per minute and has used them: retry in ${Math.ceil(waitMs / 1000)} s`;
    return new SigcastError('too_many_new_channels', message, undefined, { retryAfterMs: Math.max(1000, waitMs) });
  }

  private tokensOf(publisher: string): number {
    const now = this.now();
    return refill(this.buckets.get(publisher) ?? fullBucket(this.limits, now), this.limits, now).tokens;
  }

  private store(publisher: string, tokens: number): void {
    this.buckets.delete(publisher);
    // A full bucket is the default: not storing it keeps the table to recent creators.
    if (tokens >= this.options.perMinute) return;
    this.buckets.set(publisher, { tokens, at: this.now() });
    if (this.buckets.size > this.maxPublishers) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
