// One subscriber's way from its replay into the live stream, paced by its socket's drain: frames
// are written while the socket's send buffer stays under a window, and the rest waits for the
// buffer to drain, so a warm channel's thousand-entry replay to a client that does not read holds
// a window, not the whole replay. The replay is read from the feed's ring by seq (a waiting
// writer holds no copy of it) until the ring is about to drop some of it: then the writer keeps
// what it still owes (`keep`). Entries the channel delivers meanwhile are not lost: after the
// `live` marker the writer reads them from the ring too, and joins the fan-out topic in the same
// synchronous step in which it wrote the newest one (no gap, no duplicate). A reset of the feed
// meanwhile is passed on in order; a subscriber that fell further behind than the ring holds is
// told so with a `truncated` reset.
import { encodeFrame } from '../protocol/codec.js';
import type { WireFrame } from '../protocol/encoding.js';
import type { ResetFrame } from '../protocol/frames.js';
import type { CachedEntry } from './cached-entry.js';
import type { FeedReset } from './channel-feed.js';
import type { SubscriberPort } from './port.js';

/** What the writer reads the live tail from: the channel's feed. */
export interface TailSource {
  readonly epoch: string;
  readonly headSeq: number;
  /** The oldest seq the ring holds (headSeq + 1 when it holds nothing). */
  readonly firstSeq: number;
  /** The delivered entry with this seq, while the ring still holds it. */
  entryAt(seq: number): CachedEntry | undefined;
}

export interface ReplayWriterOptions {
  subscriber: SubscriberPort;
  channel: string;
  /** Written first, whatever the window: `subscribed` and a `reset` of the position. */
  head: WireFrame[];
  /** The replay: `count` entries from seq `fromSeq`, which the ring holds now. */
  replay: { fromSeq: number; count: number };
  /** The `live` marker: its seq is where the tail starts, in its epoch. */
  live: { frame: WireFrame; seq: number; epoch: string };
  feed: TailSource;
  windowBytes: number;
  /**
   * After `live`, write what the channel delivered meanwhile before joining (exact subscribers);
   * false: join right after `live` (a conflated one, whose next sample catches it up). @default true
   */
  followTail?: boolean;
  /** Caught up to `seq`: join the fan-out now (called in the step that wrote the newest entry). */
  joinLive(seq: number): void;
  /** A reset this writer sent (for counting). */
  onReset?(reason: FeedReset['reason']): void;
}

export class ReplayWriter {
  private head: WireFrame[];
  /** Next replay seq to write, and the last one. */
  private replayNext: number;
  private readonly replayEnd: number;
  /** The rest of the replay from seq keptFrom, once the ring was about to drop it. */
  private kept: CachedEntry[] | undefined;
  private keptFrom = 0;
  private phase: 'replay' | 'tail' | 'done' = 'replay';
  private nextSeq: number;
  private epoch: string;
  private pendingReset: FeedReset | undefined;
  private waiting = false;

  constructor(private readonly options: ReplayWriterOptions) {
    this.head = options.head;
    this.replayNext = options.replay.fromSeq;
    this.replayEnd = options.replay.fromSeq + options.replay.count - 1;
    this.nextSeq = options.live.seq + 1;
    this.epoch = options.live.epoch;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Writes what the window allows, and joins live once caught up. */
  start(): void {
    this.pump();
  }

  /** The feed's history moved (see ChannelFeed.applyPage): passed on before the entries after it. */
  noteReset(reset: FeedReset): void {
    if (this.phase !== 'done') this.pendingReset = reset;
  }

  /** The ring is about to drop entries: keep the replay entries still owed, from the ring as it is. */
  keep(): void {
    if (this.phase !== 'replay' || this.kept) return;
    const kept: CachedEntry[] = [];
    for (let seq = this.replayNext; seq <= this.replayEnd; seq += 1) kept.push(this.options.feed.entryAt(seq)!);
    this.kept = kept;
    this.keptFrom = this.replayNext;
  }

  /** Abandoned (unsubscribed or closed): writes nothing more. */
  stop(): void {
    this.phase = 'done';
    this.kept = undefined;
  }

  private pump(): void {
    if (this.phase === 'done') return;
    if (this.options.subscriber.closed) return this.stop();
    this.options.subscriber.cork(() => this.write());
  }

  private write(): void {
    const { subscriber, windowBytes, feed } = this.options;
    const encoding = subscriber.encoding;
    const head = this.head;
    this.head = [];
    for (const frame of head) if (!this.send(frame)) return;
    while (this.phase === 'replay') {
      if (this.replayNext > this.replayEnd) {
        this.kept = undefined;
        if (!this.send(this.options.live.frame)) return;
        this.phase = 'tail';
        if (this.options.followTail === false) {
          if (this.pendingReset) this.passOnReset(this.pendingReset);
          return this.phase === 'tail' ? this.finish() : undefined;
        }
        break;
      }
      if (subscriber.bufferedAmount() > windowBytes) return this.wait();
      const entry = this.kept ? this.kept[this.replayNext - this.keptFrom]! : feed.entryAt(this.replayNext)!;
      this.replayNext += 1;
      if (!this.send(entry.frame(encoding))) return;
    }
    while (this.phase === 'tail') {
      if (this.pendingReset) this.passOnReset(this.pendingReset);
      if (this.phase !== 'tail' || this.nextSeq > feed.headSeq) break;
      if (subscriber.bufferedAmount() > windowBytes) return this.wait();
      const entry = feed.entryAt(this.nextSeq);
      if (!entry || entry.entry.epoch !== this.epoch) {
        // Further behind than the ring holds: continue from its oldest entry, and say so.
        this.sendReset(feed.epoch === this.epoch ? 'truncated' : 'epoch_changed', feed.epoch, feed.firstSeq);
        continue;
      }
      if (!this.send(entry.frame(encoding))) return;
      this.nextSeq += 1;
    }
    if (this.phase === 'tail') this.finish();
  }

  private finish(): void {
    this.phase = 'done';
    this.options.joinLive(this.nextSeq - 1);
  }

  /** False (and stopped) once the connection is closed, e.g. by this very write. */
  private send(frame: WireFrame): boolean {
    if (this.options.subscriber.send(frame) && !this.options.subscriber.closed) return true;
    this.stop();
    return false;
  }

  private wait(): void {
    if (this.waiting) return;
    this.waiting = true;
    this.options.subscriber.onDrain(() => {
      this.waiting = false;
      // Resume only once the buffer is well under the window again, not at every small drain.
      if (this.phase !== 'done' && this.options.subscriber.bufferedAmount() > this.options.windowBytes / 2) return this.wait();
      this.pump();
    });
  }

  private passOnReset(reset: FeedReset): void {
    this.pendingReset = undefined;
    // Nothing this subscriber still needs was lost.
    if (reset.epoch === this.epoch && reset.fromSeq <= this.nextSeq) return;
    this.sendReset(reset.reason, reset.epoch, reset.fromSeq);
  }

  private sendReset(reason: FeedReset['reason'], epoch: string, fromSeq: number): void {
    const { subscriber, channel } = this.options;
    const frame: ResetFrame = {
      type: 'reset',
      channel,
      reason,
      epoch,
      fromSeq,
      requested: { since: this.nextSeq - 1, epoch: this.epoch },
    };
    this.options.onReset?.(reason);
    this.epoch = epoch;
    this.nextSeq = fromSeq;
    this.send(encodeFrame(frame, subscriber.encoding));
  }
}
