// How many channels each publisher may create per minute (NEW_CHANNELS_PER_MINUTE): a token
// bucket per publisher that holds a minute's worth and refills continuously. A channel is new when
// it has no history; every channel costs Redis three keys for HISTORY_TTL_SECONDS, so creating
// them is what one request must not be able to do by the ten thousand.
import { SigcastError } from '../errors.js';

export interface NewChannelLimiterOptions {
  perMinute: number;
  /** Publishers tracked at most; the least recently active are forgotten first. @default 10000 */
  maxPublishers?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MINUTE_MS = 60_000;
const DEFAULT_MAX_PUBLISHERS = 10_000;

/** 429: the publish would create more channels than the publisher may create right now. */
export class TooManyNewChannelsError extends SigcastError {
  constructor(
    fresh: number,
    perMinute: number,
    private readonly waitSeconds: number,
  ) {
    super(
      'too_many_new_channels',
      fresh > perMinute
        ? `this publish would create ${fresh} new channels; a publisher may create at most ${perMinute} per minute`
        : `this publish would create ${fresh} new channels; this publisher may create ${perMinute} per minute and has used them: retry in ${waitSeconds} s`,
    );
  }

  override get retryAfterSeconds(): number {
    return this.waitSeconds;
  }
}

export class NewChannelLimiter {
  /** Only publishers below a full bucket; insertion order is recency (least recent first). */
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxPublishers: number;
  private readonly now: () => number;

  constructor(private readonly options: NewChannelLimiterOptions) {
    this.maxPublishers = options.maxPublishers ?? DEFAULT_MAX_PUBLISHERS;
    this.now = options.now ?? Date.now;
  }

  get perMinute(): number {
    return this.options.perMinute;
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

  /** Seconds until the publisher has `count` tokens (at least 1). */
  secondsUntil(publisher: string, count: number): number {
    const missing = Math.min(count, this.options.perMinute) - this.tokensOf(publisher);
    return Math.max(1, Math.ceil((missing * MINUTE_MS) / this.options.perMinute / 1000));
  }

  /** The error for a publish that would create `fresh` channels it may not create now. */
  refusal(publisher: string, fresh: number): TooManyNewChannelsError {
    return new TooManyNewChannelsError(fresh, this.options.perMinute, this.secondsUntil(publisher, fresh));
  }

  private tokensOf(publisher: string): number {
    const bucket = this.buckets.get(publisher);
    if (!bucket) return this.options.perMinute;
    const refilled = bucket.tokens + ((this.now() - bucket.at) * this.options.perMinute) / MINUTE_MS;
    return Math.min(this.options.perMinute, refilled);
  }

  private store(publisher: string, tokens: number): void {
    this.buckets.delete(publisher);
    // A full bucket is the default: not storing it keeps the table to recent creators.
    if (tokens >= this.options.perMinute) return;
    this.buckets.set(publisher, { tokens, at: this.now() });
    if (this.buckets.size > this.maxPublishers) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
