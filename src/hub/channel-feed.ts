import type { Broker, HistoryPage } from '../broker/broker.js';
import type { Logger } from '../log.js';
import type { Entry } from '../signal/schema.js';
import { CachedEntry } from './cached-entry.js';
import { contiguousRun, mergeLive } from './merge.js';
import { Ring } from './ring.js';

/** Where a feed sends what it decided to deliver; the hub fans it out to subscribers. */
export interface FeedSink {
  deliver(channel: string, entries: CachedEntry[]): void;
  /** Every subscriber's position became invalid (history lost or truncated past what was delivered). */
  reset(channel: string, reset: FeedReset): void;
  /** A history read (not the first sync): for a hole or an epoch change in the live stream (`gap`), or after a broker reconnect (`resync`). */
  catchingUp(channel: string, why: 'gap' | 'resync'): void;
  /** The ring is about to drop entries (it is full, or cleared): whoever reads it by seq keeps what it needs. */
  evicting(channel: string): void;
}

export interface FeedReset {
  reason: 'truncated' | 'epoch_changed';
  epoch: string;
  fromSeq: number;
  requested: { since: number; epoch: string };
}

type FeedState = 'starting' | 'live' | 'catching_up' | 'closed';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * One channel's live feed on this node: the ring of its newest entries (the replay source) and
 * the merge of history reads with pub/sub messages. Invariant: the ring holds exactly what was
 * delivered to the channel's subscribers, contiguous in seq, ending at headSeq.
 */
export class ChannelFeed {
  epoch = '';
  headSeq = 0;
  readonly ring: Ring<CachedEntry>;
  /** Resolves when the first sync is done; rejects if it failed (the feed is then closed). */
  readonly ready: Promise<void>;
  private state: FeedState = 'starting';
  private pending: Entry[][] = [];
  private pendingCount = 0;
  private catchUpAgain = false;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;

  constructor(
    readonly channel: string,
    private readonly broker: Broker,
    capacity: number,
    private readonly sink: FeedSink,
    private readonly log: Logger,
  ) {
    this.ring = new Ring(capacity);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined); // observed by the hub; never an unhandled rejection
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Re-reading history to fill a gap or re-sync after a reconnect. */
  get catchingUp(): boolean {
    return this.state === 'catching_up';
  }

  /** The first sync is done: replays are served from the ring, without Redis. */
  get synced(): boolean {
    return this.state === 'live' || this.state === 'catching_up';
  }

  /** First seq held in the ring (headSeq + 1 when it holds nothing). */
  get firstSeq(): number {
    return this.ring.first()?.seq ?? this.headSeq + 1;
  }

  /** The delivered entry with this seq, while the ring holds it. */
  entryAt(seq: number): CachedEntry | undefined {
    const first = this.ring.first();
    if (!first) return undefined;
    const entry = this.ring.at(seq - first.seq);
    return entry?.seq === seq ? entry : undefined;
  }

  /** Subscribes first, then reads history, so nothing published in between can be missed. */
  async start(): Promise<void> {
    try {
      await this.broker.subscribe(this.channel, (entries) => this.onLive(entries));
      this.adopt(await this.broker.history(this.channel, { limit: this.ring.capacity }));
      this.state = 'live';
      // Too much arrived during the first read to keep buffered: read history again.
      if (this.catchUpAgain) void this.catchUp('gap');
      else this.drainPending();
      this.resolveReady();
    } catch (error) {
      this.state = 'closed';
      this.rejectReady(error);
    }
  }

  /** A pub/sub message: the batch of one append, in seq order. */
  onLive(batch: Entry[]): void {
    if (this.state === 'live') return this.apply(batch);
    if (this.state === 'closed') return;
    // Buffered while syncing. Pub/sub is only a hint: if too much piles up, re-read history instead.
    this.pendingCount += batch.length;
    if (this.pendingCount > this.ring.capacity) {
      this.pending = [];
      this.pendingCount = 0;
      this.catchUpAgain = true;
    } else {
      this.pending.push(batch);
    }
  }

  /** Announcements may have been lost (broker reconnected): re-read what we may have missed. */
  resync(): void {
    if (this.state === 'live') void this.catchUp('resync');
    else if (this.state === 'catching_up') this.catchUpAgain = true;
  }

  close(): void {
    this.state = 'closed';
    this.pending = [];
  }

  private apply(batch: Entry[]): void {
    const merge = mergeLive(this.epoch, this.headSeq, batch);
    if (merge.kind === 'deliver') return this.deliver(merge.entries);
    this.log.debug({ channel: this.channel, merge }, 'live stream needs a history read');
    this.pending.push(batch);
    this.pendingCount += batch.length;
    void this.catchUp('gap');
  }

  private async catchUp(why: 'gap' | 'resync'): Promise<void> {
    this.state = 'catching_up';
    this.sink.catchingUp(this.channel, why);
    let delayMs = RETRY_BASE_MS;
    for (;;) {
      if (this.closed) return;
      this.catchUpAgain = false;
      try {
        let page = await this.broker.history(this.channel, { afterSeq: this.headSeq, limit: this.ring.capacity });
        if (this.closed) return;
        if (page.epoch !== this.epoch && page.epoch !== '') {
          page = await this.broker.history(this.channel, { limit: this.ring.capacity });
          if (this.closed) return;
        }
        this.applyPage(page);
        if (this.catchUpAgain) continue;
        this.state = 'live';
        this.drainPending();
        return;
      } catch (error) {
        this.log.warn({ channel: this.channel, err: error, retryInMs: delayMs }, 'history read failed; retrying');
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
      }
    }
  }

  /** First sync: nobody is subscribed yet, so the feed just takes what there is. */
  private adopt(page: HistoryPage): void {
    this.epoch = page.epoch;
    this.headSeq = page.headSeq - page.entries.length;
    this.deliver(page.entries);
    this.headSeq = page.headSeq;
  }

  private applyPage(page: HistoryPage): void {
    const previous = { since: this.headSeq, epoch: this.epoch };
    if (page.epoch !== this.epoch) {
      // The channel's history was lost (expired, flushed, or Redis restarted without persistence).
      this.sink.evicting(this.channel);
      this.ring.clear();
      this.epoch = page.epoch;
      const fromSeq = page.entries[0]?.seq ?? page.headSeq + 1;
      this.headSeq = fromSeq - 1;
      this.sink.reset(this.channel, { reason: 'epoch_changed', epoch: page.epoch, fromSeq, requested: previous });
      this.deliver(page.entries);
      return;
    }
    const first = page.entries[0];
    if (first && first.seq > this.headSeq + 1) {
      // More was missed than the list still holds: say so, then continue from what there is.
      this.sink.evicting(this.channel);
      this.ring.clear();
      this.headSeq = first.seq - 1;
      this.sink.reset(this.channel, { reason: 'truncated', epoch: this.epoch, fromSeq: first.seq, requested: previous });
    }
    this.deliver(contiguousRun(this.headSeq, page.entries));
  }

  private drainPending(): void {
    const batches = this.pending;
    this.pending = [];
    this.pendingCount = 0;
    for (const batch of batches) {
      if (this.state !== 'live') {
        this.onLive(batch);
        continue;
      }
      this.apply(batch);
    }
  }

  private deliver(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const cached = entries.map((entry) => new CachedEntry(entry));
    if (this.ring.size + cached.length > this.ring.capacity) this.sink.evicting(this.channel);
    for (const entry of cached) this.ring.push(entry);
    const last = entries[entries.length - 1]!;
    // A feed with no history adopts the epoch of the first entries it delivers.
    this.epoch = last.epoch;
    this.headSeq = last.seq;
    this.sink.deliver(this.channel, cached);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
