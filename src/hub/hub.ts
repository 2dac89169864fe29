// Fans each channel's entries out to this node's subscribers and serves their replay from
// memory. Redis subscriptions follow local demand: the first local subscriber opens the
// channel's feed, the last one leaving closes it.
import type { Broker } from '../broker/broker.js';
import { SigcastError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { encodeFrame } from '../protocol/codec.js';
import { ENCODING_NAMES, type Encoding } from '../protocol/encoding.js';
import type { LiveFrame, ResetFrame, SubscribedFrame, SubscribeFrame } from '../protocol/frames.js';
import type { CachedEntry } from './cached-entry.js';
import { ChannelFeed, type FeedReset, type FeedSink } from './channel-feed.js';
import { ConflatedFeeds, type ConflatedMember } from './conflator.js';
import { planReplay } from './merge.js';
import { topicOf, type FanOut, type SubscriberPort } from './port.js';
import { Membership, type HubSubscription } from './subscription.js';

export interface HubOptions {
  broker: Broker;
  fanOut: FanOut;
  /** Entries kept per channel in memory (the replay source): the history size. */
  ringCapacity: number;
  maxReplay: number;
  log: Logger;
  metrics: Metrics;
}

/** A channel with local demand: its feed and how many local subscribers of each encoding it has. */
interface ChannelSlot {
  feed: ChannelFeed;
  subscribers: Record<Encoding, number>;
  /** Subscribers waiting for the feed's first sync. */
  joining: number;
}

export class Hub implements FeedSink {
  private readonly slots = new Map<string, ChannelSlot>();
  /** Broker unsubscribes in flight, so that a re-opened feed subscribes only after them. */
  private readonly pendingUnsubscribes = new Map<string, Promise<void>>();
  private readonly conflated: ConflatedFeeds;

  constructor(private readonly options: HubOptions) {
    options.broker.onResync(() => this.resyncAll());
    this.conflated = new ConflatedFeeds(options.fanOut, options.metrics);
  }

  /** True unless some served channel is re-reading history to fill a gap or re-sync. */
  get inSync(): boolean {
    for (const slot of this.slots.values()) if (slot.feed.catchingUp) return false;
    return true;
  }

  /** The served channels re-reading history to fill a gap or re-sync. */
  resyncingChannels(): string[] {
    return [...this.slots].filter(([, slot]) => slot.feed.catchingUp).map(([channel]) => channel);
  }

  /**
   * Replays what the subscriber missed, then joins it to the live stream, in one synchronous
   * step after the feed is in sync, so nothing falls between replay and live.
   */
  subscribe(subscriber: SubscriberPort, request: SubscribeFrame): HubSubscription {
    const { channel } = request;
    const membership = new Membership(channel, request.conflate);
    const slot = this.acquire(channel);
    // A cold channel's first sync reads Redis; a warm one replays from memory.
    const source = slot.feed.synced ? 'memory' : 'redis';
    slot.joining += 1;
    membership.joined = slot.feed.ready.then(
      () => {
        slot.joining -= 1;
        if (membership.state !== 'joining' || subscriber.closed) {
          membership.state = 'done';
          this.releaseIfIdle(channel, slot);
          return false;
        }
        this.join(subscriber, request, slot, membership, source);
        return true;
      },
      (error: unknown) => {
        slot.joining -= 1;
        membership.state = 'done';
        this.releaseIfIdle(channel, slot);
        this.options.log.warn({ channel, err: error }, 'subscribe failed: channel could not be synced');
        throw new SigcastError('unavailable', 'the channel history cannot be read right now; retry later');
      },
    );
    return membership;
  }

  /** After a broker reconnect: every served channel re-reads what it may have missed. */
  resyncAll(): void {
    this.options.metrics.brokerReconnects.inc();
    for (const slot of this.slots.values()) slot.feed.resync();
  }

  deliver(channel: string, entries: CachedEntry[]): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    for (const encoding of ENCODING_NAMES) {
      const count = slot.subscribers[encoding];
      if (count === 0) continue;
      this.options.fanOut.publish(topicOf(channel, encoding), entries.map((entry) => entry.frame(encoding)));
      this.options.metrics.entriesOut.inc({ encoding }, count * entries.length);
    }
    this.conflated.deliver(channel, entries);
  }

  catchingUp(_channel: string, why: 'gap' | 'resync'): void {
    if (why === 'gap') this.options.metrics.gapFills.inc();
    else this.options.metrics.resyncs.inc();
  }

  reset(channel: string, reset: FeedReset): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    this.options.metrics.resets.inc({ reason: reset.reason });
    const frame: ResetFrame = { type: 'reset', channel, ...reset };
    for (const encoding of ENCODING_NAMES) {
      if (slot.subscribers[encoding] > 0) this.options.fanOut.publish(topicOf(channel, encoding), [encodeFrame(frame, encoding)]);
    }
    this.conflated.reset(channel, frame);
  }

  close(): void {
    this.conflated.close();
    for (const [channel, slot] of this.slots) {
      slot.feed.close();
      this.slots.delete(channel);
    }
  }

  private join(subscriber: SubscriberPort, request: SubscribeFrame, slot: ChannelSlot, membership: Membership, source: 'memory' | 'redis'): void {
    const { feed } = slot;
    const { encoding } = subscriber;
    const topic = topicOf(request.channel, encoding);
    const plan = planReplay(request, feed.epoch, feed.firstSeq, feed.headSeq, this.options.maxReplay);
    const replay = feed.ring.newest(plan.count);
    const subscribed: SubscribedFrame = {
      type: 'subscribed',
      ...(request.id !== undefined ? { id: request.id } : {}),
      channel: request.channel,
      epoch: feed.epoch,
      headSeq: feed.headSeq,
      replay: replay.length,
    };
    const live: LiveFrame = { type: 'live', channel: request.channel, epoch: feed.epoch, seq: feed.headSeq };
    // Counted before anything is written: a write can close the connection on the spot (a full
    // send buffer), and the close then releases this membership like any active one.
    // A conflated subscriber leaves the exact topic alone: its conflator is added once the replay is out.
    const { conflate } = request;
    let conflated: ConflatedMember | undefined;
    membership.state = 'active';
    if (conflate === undefined) slot.subscribers[encoding] += 1;
    this.options.metrics.subscriptions.inc();
    membership.leave = () => {
      if (conflate !== undefined) conflated?.leave();
      else {
        if (!subscriber.closed) subscriber.leave(topic);
        slot.subscribers[encoding] -= 1;
      }
      this.options.metrics.subscriptions.dec();
      this.releaseIfIdle(request.channel, slot);
    };
    subscriber.cork(() => {
      subscriber.send(encodeFrame(subscribed, encoding));
      if (plan.reset) {
        const reset: ResetFrame = {
          type: 'reset',
          channel: request.channel,
          reason: plan.reset.reason,
          epoch: feed.epoch,
          fromSeq: plan.reset.fromSeq,
          requested: { since: request.since ?? 0, ...(request.epoch !== undefined ? { epoch: request.epoch } : {}) },
        };
        subscriber.send(encodeFrame(reset, encoding));
        this.options.metrics.resets.inc({ reason: plan.reset.reason });
      }
      for (const entry of replay) subscriber.send(entry.frame(encoding));
      subscriber.send(encodeFrame(live, encoding));
      if (membership.state !== 'active') return;
      if (conflate === undefined) return subscriber.join(topic);
      conflated = this.conflated.add(request.channel, conflate, subscriber, feed.headSeq);
      membership.skip = conflated.skip;
    });
    if (replay.length > 0) {
      this.options.metrics.replays.inc({ source });
      this.options.metrics.replayedEntries.inc({ source }, replay.length);
    }
  }

  private acquire(channel: string): ChannelSlot {
    const existing = this.slots.get(channel);
    if (existing && !existing.feed.closed) return existing;
    const feed = new ChannelFeed(channel, this.options.broker, this.options.ringCapacity, this, this.options.log);
    const subscribers = Object.fromEntries(ENCODING_NAMES.map((name) => [name, 0])) as Record<Encoding, number>;
    const slot: ChannelSlot = { feed, subscribers, joining: 0 };
    this.slots.set(channel, slot);
    this.options.metrics.channels.set(this.slots.size);
    const previous = this.pendingUnsubscribes.get(channel) ?? Promise.resolve();
    void previous.then(() => feed.start());
    return slot;
  }

  private releaseIfIdle(channel: string, slot: ChannelSlot): void {
    if (slot.joining > 0 || ENCODING_NAMES.some((name) => slot.subscribers[name] > 0) || this.conflated.has(channel)) return;
    if (slot.feed.closed && this.slots.get(channel) !== slot) return; // released already
    if (this.slots.get(channel) === slot) this.slots.delete(channel);
    this.options.metrics.channels.set(this.slots.size);
    slot.feed.close();
    // Skipped when a new feed took the channel meanwhile: that feed's own subscribe is the live one.
    const previous = this.pendingUnsubscribes.get(channel) ?? Promise.resolve();
    const done: Promise<void> = previous
      .then(() => (this.slots.has(channel) ? undefined : this.options.broker.unsubscribe(channel)))
      .catch((error: unknown) => this.options.log.warn({ channel, err: error }, 'broker unsubscribe failed'))
      .finally(() => {
        if (this.pendingUnsubscribes.get(channel) === done) this.pendingUnsubscribes.delete(channel);
      });
    this.pendingUnsubscribes.set(channel, done);
  }
}
