import type { Broker } from '../broker/broker.js';
import { SigcastError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ENCODINGS, encodeFrame, type Encoding, type WireFrame } from '../protocol/codec.js';
import type { LiveFrame, ResetFrame, SubscribedFrame, SubscribeFrame } from '../protocol/frames.js';
import { topicOf, type Connection } from '../transport/transport.js';
import type { CachedEntry } from './cached-entry.js';
import { ChannelFeed, type FeedReset, type FeedSink } from './channel-feed.js';
import { planReplay } from './merge.js';

export interface HubOptions {
  broker: Broker;
  publish(topic: string, frames: readonly WireFrame[]): void;
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

/**
 * Fans each channel's entries out to this node's subscribers, and serves their replay from
 * memory. Redis subscriptions follow local demand: the first local subscriber opens the
 * channel's feed, the last one leaving closes it.
 */
export class Hub implements FeedSink {
  private readonly slots = new Map<string, ChannelSlot>();
  /** Broker unsubscribes in flight, so that a re-opened feed subscribes only after them. */
  private readonly closing = new Map<string, Promise<void>>();

  constructor(private readonly options: HubOptions) {
    options.broker.onResync(() => this.resyncAll());
  }

  get channelCount(): number {
    return this.slots.size;
  }

  /**
   * Replays what the subscriber missed, then joins it to the live stream, in one synchronous
   * step after the feed is in sync, so nothing falls between replay and live.
   * Resolves false when `stillWanted` says the subscription was abandoned while waiting.
   */
  async subscribe(connection: Connection, request: SubscribeFrame, stillWanted: () => boolean): Promise<boolean> {
    const slot = this.acquire(request.channel);
    slot.joining += 1;
    try {
      await slot.feed.ready;
    } catch (error) {
      slot.joining -= 1;
      this.releaseIfIdle(request.channel, slot);
      this.options.log.warn({ channel: request.channel, err: error }, 'subscribe failed: channel could not be synced');
      throw new SigcastError('unavailable', 'the channel history cannot be read right now; retry later');
    }
    slot.joining -= 1;
    if (connection.closed || !stillWanted()) {
      this.releaseIfIdle(request.channel, slot);
      return false;
    }
    this.join(connection, request, slot);
    return true;
  }

  /** Removes one subscription of a connection (also used when the connection closes). */
  unsubscribe(connection: Connection, channel: string): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    if (!connection.closed) connection.unsubscribe(topicOf(channel, connection.encoding));
    slot.subscribers[connection.encoding] -= 1;
    this.options.metrics.subscriptions.dec();
    this.releaseIfIdle(channel, slot);
  }

  /** After a broker reconnect: every served channel re-reads what it may have missed. */
  resyncAll(): void {
    this.options.metrics.brokerReconnects.inc();
    for (const slot of this.slots.values()) slot.feed.resync();
  }

  deliver(channel: string, entries: CachedEntry[]): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    for (const encoding of ENCODINGS) {
      const count = slot.subscribers[encoding];
      if (count === 0) continue;
      const topic = topicOf(channel, encoding);
      this.options.publish(topic, entries.map((entry) => entry.frame(encoding)));
      this.options.metrics.entriesOut.inc(count * entries.length);
    }
  }

  catchingUp(): void {
    this.options.metrics.gapFills.inc();
  }

  reset(channel: string, reset: FeedReset): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    this.options.metrics.resets.inc({ reason: reset.reason });
    const frame: ResetFrame = { type: 'reset', channel, ...reset };
    for (const encoding of ENCODINGS) {
      if (slot.subscribers[encoding] > 0) this.options.publish(topicOf(channel, encoding), [encodeFrame(frame, encoding)]);
    }
  }

  close(): void {
    for (const [channel, slot] of this.slots) {
      slot.feed.close();
      this.slots.delete(channel);
    }
  }

  private join(connection: Connection, request: SubscribeFrame, slot: ChannelSlot): void {
    const { feed } = slot;
    const { encoding } = connection;
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
    connection.cork(() => {
      connection.send(encodeFrame(subscribed, encoding));
      if (plan.reset) {
        const reset: ResetFrame = {
          type: 'reset',
          channel: request.channel,
          reason: plan.reset.reason,
          epoch: feed.epoch,
          fromSeq: plan.reset.fromSeq,
          requested: { since: request.since ?? 0, ...(request.epoch !== undefined ? { epoch: request.epoch } : {}) },
        };
        connection.send(encodeFrame(reset, encoding));
        this.options.metrics.resets.inc({ reason: plan.reset.reason });
      }
      for (const entry of replay) connection.send(entry.frame(encoding));
      connection.send(encodeFrame(live, encoding));
      connection.subscribe(topicOf(request.channel, encoding));
    });
    slot.subscribers[encoding] += 1;
    this.options.metrics.subscriptions.inc();
    if (replay.length > 0) {
      this.options.metrics.replays.inc();
      this.options.metrics.replayedEntries.inc(replay.length);
    }
  }

  private acquire(channel: string): ChannelSlot {
    const existing = this.slots.get(channel);
    if (existing && !existing.feed.closed) return existing;
    const feed = new ChannelFeed(channel, this.options.broker, this.options.ringCapacity, this, this.options.log);
    const slot: ChannelSlot = { feed, subscribers: { json: 0, msgpack: 0 }, joining: 0 };
    this.slots.set(channel, slot);
    this.options.metrics.channels.set(this.slots.size);
    const previous = this.closing.get(channel) ?? Promise.resolve();
    void previous.then(() => feed.start());
    return slot;
  }

  private releaseIfIdle(channel: string, slot: ChannelSlot): void {
    if (slot.joining > 0 || slot.subscribers.json > 0 || slot.subscribers.msgpack > 0) return;
    if (this.slots.get(channel) === slot) this.slots.delete(channel);
    this.options.metrics.channels.set(this.slots.size);
    slot.feed.close();
    // Skipped when a new feed took the channel meanwhile: that feed's own subscribe is the live one.
    const previous = this.closing.get(channel) ?? Promise.resolve();
    const done: Promise<void> = previous
      .then(() => (this.slots.has(channel) ? undefined : this.options.broker.unsubscribe(channel)))
      .catch((error: unknown) => this.options.log.warn({ channel, err: error }, 'broker unsubscribe failed'))
      .finally(() => {
        if (this.closing.get(channel) === done) this.closing.delete(channel);
      });
    this.closing.set(channel, done);
  }
}
