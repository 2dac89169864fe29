// Fans each channel's entries out to this node's subscribers and serves their replay from
// memory. Redis subscriptions follow local demand: the first local subscriber opens the
// channel's feed, the last one leaving closes it.
import type { Broker } from '../broker/broker.js';
import { SigcastError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { encodeFrame } from '../protocol/codec.js';
import { ENCODING_NAMES, type Encoding } from '../protocol/encoding.js';
import type { ResetFrame, SubscribeFrame } from '../protocol/frames.js';
import { Admission, type Ticket } from './admission.js';
import type { CachedEntry } from './cached-entry.js';
import { ChannelFeed, type FeedReset, type FeedSink } from './channel-feed.js';
import { batchFrames } from './batch-frames.js';
import { ConflatedFeeds, type ConflatedMember } from './conflator.js';
import { joinFrames } from './join-frames.js';
import { batchedTopicOf, topicOf, type FanOut, type SubscriberPort } from './port.js';
import { ReplayWriter } from './replay-writer.js';
import { Membership, type HubSubscription } from './subscription.js';

export interface HubOptions {
  broker: Broker;
  fanOut: FanOut;
  /** Entries kept per channel in memory (the replay source): the history size. */
  ringCapacity: number;
  maxReplay: number;
  /** Channels with local demand at most (MAX_CHANNELS): past it a subscribe to a new one fails. */
  maxChannels: number;
  /** Replay is written while the socket's send buffer holds less than this (then paced by drain). */
  replayWindowBytes: number;
  /** How many subscribes may sync at once, node-wide and per connection, and wait (admission.ts). */
  admission: { concurrency: number; perConnection: number; maxQueued: number };
  log: Logger;
  metrics: Metrics;
}

/** A channel with local demand: its feed and how many local subscribers of each encoding it has. */
interface ChannelSlot {
  feed: ChannelFeed;
  /** Subscribers taking one `entry` frame per entry. */
  subscribers: Record<Encoding, number>;
  /** Subscribers that asked for `batch`: the entries of one store in one `entries` frame. */
  batched: Record<Encoding, number>;
  /** Subscribers waiting for the feed's first sync. */
  joining: number;
  /** Subscribers whose replay is being written (paced), not yet in the fan-out topic. */
  writers: Set<ReplayWriter>;
}

export class Hub implements FeedSink {
  private readonly slots = new Map<string, ChannelSlot>();
  /** Broker unsubscribes in flight, so that a re-opened feed subscribes only after them. */
  private readonly pendingUnsubscribes = new Map<string, Promise<void>>();
  private readonly admission: Admission;
  private readonly conflated: ConflatedFeeds;

  constructor(private readonly options: HubOptions) {
    const { concurrency, perConnection, maxQueued } = options.admission;
    this.admission = new Admission({ concurrency, perOwner: perConnection, maxQueued });
    options.broker.onResync(() => this.resyncAll());
    this.conflated = new ConflatedFeeds(options.fanOut, options.metrics);
  }

  /** Subscribes waiting for admission, and syncing (holding a node-wide slot). */
  get admissions(): { waiting: number; syncing: number } {
    return { waiting: this.admission.waiting, syncing: this.admission.running };
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
   * Replays what the subscriber missed, then joins it to the live stream with nothing between
   * replay and live. Admitted at a bounded rate (admission.ts): a storm of subscribes waits its
   * turn instead of timing out in Redis.
   */
  subscribe(subscriber: SubscriberPort, request: SubscribeFrame): HubSubscription {
    const membership = new Membership(request.channel, request.conflate);
    membership.joined = new Promise<boolean>((resolve, reject) => {
      let ticket: Ticket | undefined;
      let started = false;
      // Unsubscribed while waiting for admission: give up the place. Once started, the feed's
      // settlement finishes the ticket (its Redis work is under way whoever still wants it).
      membership.abandon = () => {
        if (started) return;
        ticket?.done();
        resolve(false);
      };
      try {
        ticket = this.admission.admit(subscriber, (admitted) => {
          started = true;
          this.start(subscriber, request, membership, admitted, resolve, reject);
        });
      } catch (error) {
        membership.state = 'done';
        reject(error);
      }
    });
    membership.joined.catch(() => undefined); // the session observes it; never an unhandled rejection
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
      const single = slot.subscribers[encoding];
      const batched = slot.batched[encoding];
      if (single > 0) this.options.fanOut.publish(topicOf(channel, encoding), entries.map((entry) => entry.frame(encoding)));
      if (batched > 0) this.options.fanOut.publish(batchedTopicOf(channel, encoding), batchFrames(channel, entries, encoding));
      if (single + batched > 0) this.options.metrics.entriesOut.inc({ encoding }, (single + batched) * entries.length);
    }
    this.conflated.deliver(channel, entries);
  }

  catchingUp(_channel: string, why: 'gap' | 'resync'): void {
    if (why === 'gap') this.options.metrics.gapFills.inc();
    else this.options.metrics.resyncs.inc();
  }

  evicting(channel: string): void {
    const slot = this.slots.get(channel);
    if (slot) for (const writer of slot.writers) writer.keep();
  }

  reset(channel: string, reset: FeedReset): void {
    const slot = this.slots.get(channel);
    if (!slot) return;
    this.options.metrics.resets.inc({ reason: reset.reason });
    // Subscribers still being written their replay are not in the topic: each passes it on in order.
    for (const writer of slot.writers) writer.noteReset(reset);
    const frame: ResetFrame = { type: 'reset', channel, ...reset };
    for (const encoding of ENCODING_NAMES) {
      if (slot.subscribers[encoding] > 0) this.options.fanOut.publish(topicOf(channel, encoding), [encodeFrame(frame, encoding)]);
      if (slot.batched[encoding] > 0) this.options.fanOut.publish(batchedTopicOf(channel, encoding), [encodeFrame(frame, encoding)]);
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

  /** Admitted: sync the channel's feed (shared by every subscriber of it), then join. */
  private start(
    subscriber: SubscriberPort,
    request: SubscribeFrame,
    membership: Membership,
    ticket: Ticket,
    resolve: (joined: boolean) => void,
    reject: (error: unknown) => void,
  ): void {
    const { channel } = request;
    if (membership.state !== 'joining' || subscriber.closed) {
      ticket.done();
      return resolve(false);
    }
    const slot = this.acquire(channel);
    if (!slot) {
      membership.state = 'done';
      ticket.done();
      return reject(new SigcastError('too_many_channels', `this node serves ${this.slots.size} channels, its limit (MAX_CHANNELS); retry later`));
    }
    // A cold channel's first sync reads Redis; a warm one replays from memory.
    const source = slot.feed.synced ? 'memory' : 'redis';
    slot.joining += 1;
    slot.feed.ready.then(
      () => {
        slot.joining -= 1;
        ticket.synced();
        if (membership.state !== 'joining' || subscriber.closed) {
          membership.state = 'done';
          this.releaseIfIdle(channel, slot);
          ticket.done();
          return resolve(false);
        }
        this.join(subscriber, request, slot, membership, source, () => {
          ticket.done();
          resolve(true);
        });
      },
      (error: unknown) => {
        slot.joining -= 1;
        membership.state = 'done';
        this.releaseIfIdle(channel, slot);
        ticket.done();
        this.options.log.warn({ channel, err: error }, 'subscribe failed: channel could not be synced');
        reject(new SigcastError('unavailable', 'the channel history cannot be read right now; retry later'));
      },
    );
  }

  /**
   * Counts the membership, writes `subscribed` (and a position `reset`), then the replay and the
   * live marker through a ReplayWriter, which joins the topic once caught up (a conflated
   * subscriber joins its conflator right after `live`: the next sample catches it up). `finished`
   * runs once: when it joined, or when it left first.
   */
  private join(
    subscriber: SubscriberPort,
    request: SubscribeFrame,
    slot: ChannelSlot,
    membership: Membership,
    source: 'memory' | 'redis',
    finished: () => void,
  ): void {
    const { feed } = slot;
    const { encoding } = subscriber;
    // `batch` shapes live frames only; a conflated feed sends one entry at a time anyway.
    const batched = request.batch === true && request.conflate === undefined;
    const topic = batched ? batchedTopicOf(request.channel, encoding) : topicOf(request.channel, encoding);
    const counts = batched ? slot.batched : slot.subscribers;
    const { head, resetReason, replay, live } = joinFrames(request, feed, encoding, this.options.maxReplay);
    if (resetReason) this.options.metrics.resets.inc({ reason: resetReason });
    let over = false;
    const finish = (): void => {
      if (over) return;
      over = true;
      finished();
    };
    // A conflated subscriber leaves the exact topic alone: its conflator is added once the replay is out.
    const { conflate } = request;
    let conflated: ConflatedMember | undefined;
    const writer: ReplayWriter = new ReplayWriter({
      subscriber,
      channel: request.channel,
      head,
      replay,
      live,
      feed,
      windowBytes: this.options.replayWindowBytes,
      followTail: conflate === undefined,
      joinLive: (seq) => {
        slot.writers.delete(writer);
        if (membership.state === 'active') {
          if (conflate === undefined) subscriber.join(topic);
          else {
            conflated = this.conflated.add(request.channel, conflate, subscriber, seq);
            membership.skip = conflated.skip;
          }
        }
        finish();
      },
      onReset: (reason) => this.options.metrics.resets.inc({ reason }),
    });
    // Counted before anything is written: a write can close the connection on the spot (a full
    // send buffer), and the close then releases this membership like any active one.
    membership.state = 'active';
    if (conflate === undefined) counts[encoding] += 1;
    this.options.metrics.subscriptions.inc();
    membership.leave = () => {
      writer.stop();
      slot.writers.delete(writer);
      if (conflate !== undefined) conflated?.leave();
      else {
        if (!subscriber.closed) subscriber.leave(topic);
        counts[encoding] -= 1;
      }
      this.options.metrics.subscriptions.dec();
      this.releaseIfIdle(request.channel, slot);
      finish();
    };
    slot.writers.add(writer);
    writer.start();
    if (replay.count > 0) {
      this.options.metrics.replays.inc({ source });
      this.options.metrics.replayedEntries.inc({ source }, replay.count);
    }
  }

  /** The channel's slot, opened if needed; undefined when that would pass MAX_CHANNELS. */
  private acquire(channel: string): ChannelSlot | undefined {
    const existing = this.slots.get(channel);
    if (existing && !existing.feed.closed) return existing;
    if (!existing && this.slots.size >= this.options.maxChannels) return undefined;
    const feed = new ChannelFeed(channel, this.options.broker, this.options.ringCapacity, this, this.options.log);
    const none = (): Record<Encoding, number> => Object.fromEntries(ENCODING_NAMES.map((name) => [name, 0])) as Record<Encoding, number>;
    const slot: ChannelSlot = { feed, subscribers: none(), batched: none(), joining: 0, writers: new Set() };
    this.slots.set(channel, slot);
    this.options.metrics.channels.set(this.slots.size);
    const previous = this.pendingUnsubscribes.get(channel) ?? Promise.resolve();
    void previous.then(() => feed.start());
    return slot;
  }

  private releaseIfIdle(channel: string, slot: ChannelSlot): void {
    const busy = slot.joining > 0 || slot.writers.size > 0 || ENCODING_NAMES.some((name) => slot.subscribers[name] + slot.batched[name] > 0);
    if (busy || this.conflated.has(channel)) return;
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
