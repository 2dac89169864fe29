// Conflated feeds for UIs that cannot draw every entry: after its replay, a conflated subscriber
// gets at most one entry per interval, the newest, carrying how many entries it replaced. The work
// is done once per (channel, interval) on this node, not per subscriber: one timer, each sample
// encoded once per encoding and fanned out on its own topic. The hub feeds a conflator the very
// entries it delivers to exact subscribers, who are untouched. A subscriber that falls behind
// (MAX_LAG_MS) leaves the topic and, once its reader caught up, gets the newest entry on its own
// with `replaced` counting everything it skipped: it skips ahead instead of being closed.
import type { Metrics } from '../metrics.js';
import { encodeFrame } from '../protocol/codec.js';
import { ENCODINGS, ENCODING_NAMES, type Encoding } from '../protocol/encoding.js';
import type { ResetFrame } from '../protocol/frames.js';
import type { CachedEntry } from './cached-entry.js';
import { topicOf, type FanOut, type SubscriberPort } from './port.js';

/** A conflated subscriber as the hub holds it. */
export interface ConflatedMember {
  leave(): void;
  /** Its reader fell behind: out of the topic until it caught up, then the newest entry on its own. */
  skip(): void;
}

interface Member {
  readonly port: SubscriberPort;
  /** In the topic: it has everything up to the conflator's `sentSeq`. */
  joined: boolean;
  /** While not joined: the newest seq it has. */
  lastSeq: number;
}

type ConflatorMetrics = Pick<Metrics, 'entriesOut' | 'conflatedReplaced'>;

/** One (channel, interval): the newest entry since the last sample, and who gets the samples. */
export class Conflator {
  private readonly members = new Set<Member>();
  private readonly joined = Object.fromEntries(ENCODING_NAMES.map((name) => [name, 0])) as Record<Encoding, number>;
  private waiting = 0;
  private latest: CachedEntry | undefined;
  /** The seq every joined member has: the last sample's, or the channel's head when they joined without one pending. */
  private sentSeq: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly channel: string,
    readonly intervalMs: number,
    headSeq: number,
    private readonly fanOut: FanOut,
    private readonly metrics: ConflatorMetrics,
  ) {
    this.sentSeq = headSeq;
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * A subscriber whose replay ended at `seq` (the `live` it was sent). It joins the topic at once
   * when nothing is pending; otherwise the next sample reaches it on its own, with `replaced`
   * counted from its own position, so every member's counts add up exactly.
   */
  add(port: SubscriberPort, seq: number): ConflatedMember {
    const member: Member = { port, joined: false, lastSeq: seq };
    this.members.add(member);
    if (!this.pending && !port.lagging && seq === this.sentSeq) this.join(member);
    else this.wait();
    return {
      leave: () => this.remove(member),
      skip: () => {
        if (!member.joined) return;
        this.part(member);
        member.lastSeq = this.sentSeq;
        this.wait();
      },
    };
  }

  /** Entries the channel delivered, in seq order. */
  deliver(entries: readonly CachedEntry[]): void {
    const last = entries[entries.length - 1];
    if (!last) return;
    this.latest = last;
    this.arm();
  }

  /** The channel's history moved (see FeedSink.reset): what was pending is dropped; counts start again at fromSeq. */
  reset(frame: ResetFrame): void {
    this.latest = undefined;
    this.sentSeq = frame.fromSeq - 1;
    for (const encoding of ENCODING_NAMES) {
      if (this.joined[encoding] > 0) this.fanOut.publish(this.topic(encoding), [encodeFrame(frame, encoding)]);
    }
    for (const member of this.members) {
      if (member.joined) continue;
      member.port.send(encodeFrame(frame, member.port.encoding));
      member.lastSeq = this.sentSeq;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One interval: the newest entry to the topic, then each waiting member that can read its own.
   * The timer keeps the cadence while entries come, and stops at the first interval without any.
   */
  tick(): void {
    const latest = this.latest;
    const sampled = latest !== undefined && this.pending;
    if (latest && sampled) {
      const replaced = latest.seq - this.sentSeq - 1;
      for (const encoding of ENCODING_NAMES) {
        const members = this.joined[encoding];
        if (members === 0) continue;
        this.fanOut.publish(this.topic(encoding), [ENCODINGS[encoding].encodeEntry(latest.entry, replaced)]);
        this.count(encoding, members, replaced);
      }
      this.sentSeq = latest.seq;
    }
    if (this.waiting > 0) {
      for (const member of this.members) {
        if (member.joined || member.port.closed || member.port.lagging) continue;
        if (latest && latest.seq > member.lastSeq) {
          const replaced = latest.seq - member.lastSeq - 1;
          member.port.send(ENCODINGS[member.port.encoding].encodeEntry(latest.entry, replaced));
          this.count(member.port.encoding, 1, replaced);
        }
        this.waiting -= 1;
        this.join(member);
      }
    }
    if (!sampled && this.waiting === 0) this.close();
  }

  private get pending(): boolean {
    return this.latest !== undefined && this.latest.seq > this.sentSeq;
  }

  private topic(encoding: Encoding): string {
    return topicOf(this.channel, encoding, this.intervalMs);
  }

  private arm(): void {
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private wait(): void {
    this.waiting += 1;
    this.arm();
  }

  private join(member: Member): void {
    member.joined = true;
    this.joined[member.port.encoding] += 1;
    member.port.join(this.topic(member.port.encoding));
  }

  /** Out of the topic (still a member). */
  private part(member: Member): void {
    member.joined = false;
    this.joined[member.port.encoding] -= 1;
    if (!member.port.closed) member.port.leave(this.topic(member.port.encoding));
  }

  private remove(member: Member): void {
    if (!this.members.delete(member)) return;
    if (member.joined) this.part(member);
    else this.waiting -= 1;
  }

  private count(encoding: Encoding, subscribers: number, replaced: number): void {
    if (subscribers === 0) return;
    this.metrics.entriesOut.inc({ encoding }, subscribers);
    if (replaced > 0) this.metrics.conflatedReplaced.inc(subscribers * replaced);
  }
}

/** Every conflator of this node, by channel and interval; one is made for the first subscriber and dropped after the last. */
export class ConflatedFeeds {
  private readonly byChannel = new Map<string, Map<number, Conflator>>();

  constructor(
    private readonly fanOut: FanOut,
    private readonly metrics: ConflatorMetrics,
  ) {}

  /** True while the channel has conflated subscribers here. */
  has(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  /** Adds a subscriber whose replay ended at `seq`, the channel's head. */
  add(channel: string, intervalMs: number, port: SubscriberPort, seq: number): ConflatedMember {
    let conflators = this.byChannel.get(channel);
    if (!conflators) this.byChannel.set(channel, (conflators = new Map()));
    let conflator = conflators.get(intervalMs);
    if (!conflator) conflators.set(intervalMs, (conflator = new Conflator(channel, intervalMs, seq, this.fanOut, this.metrics)));
    const member = conflator.add(port, seq);
    const found = conflator;
    return {
      skip: member.skip,
      leave: () => {
        member.leave();
        if (found.size > 0 || conflators.get(intervalMs) !== found) return;
        found.close();
        conflators.delete(intervalMs);
        if (conflators.size === 0 && this.byChannel.get(channel) === conflators) this.byChannel.delete(channel);
      },
    };
  }

  deliver(channel: string, entries: readonly CachedEntry[]): void {
    const conflators = this.byChannel.get(channel);
    if (conflators) for (const conflator of conflators.values()) conflator.deliver(entries);
  }

  reset(channel: string, frame: ResetFrame): void {
    const conflators = this.byChannel.get(channel);
    if (conflators) for (const conflator of conflators.values()) conflator.reset(frame);
  }

  close(): void {
    for (const conflators of this.byChannel.values()) for (const conflator of conflators.values()) conflator.close();
    this.byChannel.clear();
  }
}
