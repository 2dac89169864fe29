import {
  BrokerClosedError,
  type AppendResult,
  type Broker,
  type BrokerHealth,
  type HistoryPage,
  type HistoryQuery,
  type LiveListener,
} from './broker.js';
import { AppendBatcher } from './append-batcher.js';
import { BrokerReadiness } from './broker-readiness.js';
import { newEpoch } from './epoch.js';
import { type HeldAnnouncement, OwnAppends } from './own-appends.js';
import { ANY_SEQ, sendAckedAppend, sendAppend, sendFork, sendHistory, withDeadline } from './redis-calls.js';
import { type BrokerLogger, type CommandObserver, type RedisConnectionOptions, timed, toBrokerError, unavailableReason } from './redis-connection.js';
import { channelKeys } from './redis-keys.js';
import { appendArgv, appendedEntries, appendPart, parseAnnouncement, parseAppendCallReply, parseAppendReply, parseHistoryReply, peekAnnouncement, spanOf } from './redis-scripts.js';
import { openRedisTopology, type RedisTopology } from './redis-topology.js';
import { SeenHeads } from './seen-heads.js';
import { CHANNEL_NAME_PATTERN, type Entry, type Signal } from '../signal/schema.js';

export interface RedisBrokerOptions extends RedisConnectionOptions {
  /** Prefix of every key and pub/sub channel (REDIS_KEY_PREFIX). */
  keyPrefix: string;
  historySize: number;
  historyTtlMs: number;
  /** How often subscriber connections are pinged to detect a silent one. @default 5000 */
  subscriberPingMs?: number;
  /**
   * REDIS_ACK_REPLICAS: an append resolves only once WAIT confirms it reached this many replicas
   * of the master that stored it; fewer within `ackTimeoutMs` is BrokerUnavailableError. @default 0
   */
  ackReplicas?: number;
  /** REDIS_ACK_TIMEOUT_MS: how long WAIT waits for them. @default 1000 */
  ackTimeoutMs?: number;
  logger?: BrokerLogger;
  /** Told how long each command took (metrics). */
  observeCommand?: CommandObserver;
}

const DEFAULT_SUBSCRIBER_PING_MS = 5000;
const DEFAULT_ACK_TIMEOUT_MS = 1000;

/**
 * Broker on one Redis or a Redis Cluster (redis-topology.ts): one Lua script call per event-loop
 * turn's appends (store, trim, expire, announce; append-batcher.ts), one per history read
 * (redis-lua.ts), and a live subscriber.
 *
 * Own appends (own-appends.ts): their entries are known from the append, so their announcements
 * are never parsed, and reach the listener as soon as they are stored when they continue what it
 * was handed. The listener still gets each entry once, in seq order, one call per batch.
 *
 * Resync (broker-readiness.ts): after a lost connection, once ready again. On a cluster, a channel
 * lost on its shard and subscribed again is caught up alone: its newest entry is handed to its
 * listener, whose merge reads whatever lies before it.
 *
 * Rewinds (seen-heads.ts): a history found shorter than what this node saw of it, or an
 * announcement repeating a seq, moves the channel to a new epoch (the fork script), so that every
 * subscriber is told with a reset instead of silently missing the entries that reuse the seqs.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis';
  private readonly topology: RedisTopology;
  private readonly listeners = new Map<string, LiveListener>();
  private readonly seen = new SeenHeads();
  /** Per subscribed channel: this node's appends to it (the own-append fast path). */
  private readonly own = new Map<string, OwnAppends>();
  /** The appends of one event-loop turn, sent as one script call (per hash slot on a cluster). */
  private readonly appends: AppendBatcher;
  private readonly readiness: BrokerReadiness;
  private closing: Promise<void> | undefined;
  private commandUp = false;

  constructor(private readonly options: RedisBrokerOptions) {
    this.topology = openRedisTopology(
      {
        ...options,
        subscriberPingMs: options.subscriberPingMs ?? DEFAULT_SUBSCRIBER_PING_MS,
        ackedAppends: (options.ackReplicas ?? 0) > 0,
      },
      {
        onInPlace: () => this.settle(),
        onLost: () => this.readiness.lost('subscriber'),
        onRestored: (channel) => void this.catchUp(channel),
      },
    );
    this.readiness = new BrokerReadiness(() => this.isReady(), options.logger);
    this.appends = new AppendBatcher((keys, nowMs, parts) => this.sendAppendCall(keys, nowMs, parts));
    const { command, acked } = this.topology;
    acked?.on('ready', () => this.settle());
    command.on('ready', () => {
      this.commandUp = true;
      this.settle();
    });
    command.on('close', () => {
      if (!this.commandUp) return; // a failed reconnect attempt, already known to be down
      this.commandUp = false;
      this.readiness.lost('command');
    });
  }

  /** Resolves once the command connections are ready and (one Redis) subscriptions are in place. */
  ready(): Promise<void> {
    return this.readiness.ready();
  }

  async append(channel: string, signals: readonly Signal[], idempotencyScope?: string): Promise<AppendResult> {
    this.assertOpen();
    // The script builds entry JSON by concatenation; only a safe channel name keeps it valid.
    if (!CHANNEL_NAME_PATTERN.test(channel)) throw new Error(`invalid channel name: ${JSON.stringify(channel)}`);
    const keys = channelKeys(this.options.keyPrefix, channel);
    const floor = this.seen.floor(channel);
    const epochCandidate = newEpoch();
    const part = appendPart(channel, epochCandidate, signals, idempotencyScope, floor);
    // A cluster routes a call by its first key: only one channel's appends may share one there.
    const group = this.topology.mode === 'cluster' ? channel : '';
    const own = this.own.get(channel);
    const ownAppend = own?.begin() ?? 0;
    let stored: Entry[] = [];
    try {
      let outcome;
      try {
        outcome = await this.appends.add({ keys, part, signalCount: signals.length, group });
      } catch (error) {
        throw toBrokerError(error, 'append');
      }
      const result = parseAppendReply(outcome.reply, signals, epochCandidate);
      let headSeq = 0;
      for (const item of result.results) headSeq = Math.max(headSeq, item.seq);
      this.seen.sawAppend(channel, floor, result.epoch, headSeq);
      if (own) stored = appendedEntries(channel, outcome.nowMs, signals, part, result);
      return result;
    } finally {
      if (own) this.settleOwn(channel, own, ownAppend, stored);
    }
  }

  /** One script call for the appends of a turn (append-batcher.ts), with WAIT when REDIS_ACK_REPLICAS asks. */
  private async sendAppendCall(keys: string[], nowMs: number, parts: readonly string[][]): Promise<unknown[]> {
    const { historySize, historyTtlMs } = this.options;
    const argv = appendArgv(nowMs, historySize, historyTtlMs, parts);
    const { acked } = this.topology;
    const replicas = this.options.ackReplicas ?? 0;
    const ackTimeoutMs = this.options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const reply = await timed(this.options.observeCommand, 'append', () => {
      const sent = acked ? sendAckedAppend(acked, keys, argv, replicas, ackTimeoutMs) : sendAppend(this.topology.command, keys, argv);
      return this.bounded(sent, acked ? ackTimeoutMs : 0, 'append');
    });
    return parseAppendCallReply(reply, parts.length);
  }

  async exists(channels: readonly string[]): Promise<boolean[]> {
    this.assertOpen();
    try {
      // One EXISTS per channel (its keys may live on different Cluster slots), pipelined in one write.
      const found = await timed(this.options.observeCommand, 'exists', () =>
        Promise.all(channels.map((channel) => this.topology.command.exists(channelKeys(this.options.keyPrefix, channel).meta))),
      );
      return found.map((count) => count > 0);
    } catch (error) {
      throw toBrokerError(error, 'exists');
    }
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.assertOpen();
    const floor = this.seen.floor(channel);
    const page = await this.readHistory(channel, query);
    if (this.seen.sawHistory(channel, floor, page.epoch, page.headSeq) === 'ok' || !floor) return page;
    await this.fork(channel, floor.epoch, floor.seq);
    return this.readHistory(channel, query);
  }

  async subscribe(channel: string, listener: LiveListener): Promise<void> {
    this.assertOpen();
    this.listeners.set(channel, listener);
    this.own.set(channel, new OwnAppends(this.options.historySize));
    this.seen.track(channel);
    try {
      await this.topology.live.subscribe(channelKeys(this.options.keyPrefix, channel).live, channel, (message) => this.onLive(channel, message));
    } catch (error) {
      if (this.listeners.get(channel) === listener) {
        this.listeners.delete(channel);
        this.own.delete(channel);
        this.seen.untrack(channel);
      }
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.listeners.delete(channel);
    this.own.delete(channel);
    this.seen.untrack(channel);
    await this.topology.live.unsubscribe(channelKeys(this.options.keyPrefix, channel).live);
  }

  get liveSubscriptions(): number {
    return this.topology.live.held;
  }

  onResync(listener: () => void): void {
    this.readiness.onResync(listener);
  }

  async health(): Promise<BrokerHealth> {
    if (this.closing) return { ok: false, failing: 'connection', detail: 'the broker is closed: this node is shutting down' };
    const { command, live, mode } = this.topology;
    if (command.status !== 'ready') {
      return { ok: false, failing: 'connection', detail: `Redis is not connected (command connection: ${command.status})` };
    }
    // One Redis: nothing is live without the subscriber. A cluster stays ready while one shard
    // fails over (its channels wait for their new master): the other shards keep serving.
    if (!live.inPlace && mode === 'standalone') {
      return { ok: false, failing: 'subscriptions', detail: `Redis live subscriptions not in place (subscriber connection: ${live.status})` };
    }
    const started = performance.now();
    try {
      await timed(this.options.observeCommand, 'ping', () => this.bounded(Promise.resolve(command.ping()), 0, 'ping'));
    } catch (error) {
      return { ok: false, failing: 'connection', detail: `${unavailableReason(error)} (no answer to PING)` };
    }
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return live.inPlace ? { ok: true, latencyMs } : { ok: true, latencyMs, detail: `some live subscriptions are moving to a new shard master (${live.status})` };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.topology.live.close();
    this.listeners.clear();
    this.own.clear();
    this.readiness.close();
    await this.topology.quit();
  }

  private async readHistory(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const keys = channelKeys(this.options.keyPrefix, channel);
    const afterSeq = Math.max(0, Math.floor(query.afterSeq ?? 0));
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : Number.MAX_SAFE_INTEGER;
    let reply: unknown;
    try {
      reply = await timed(this.options.observeCommand, 'history', () => this.bounded(sendHistory(this.topology.command, keys, afterSeq, limit), 0, 'history'));
    } catch (error) {
      throw toBrokerError(error, 'history');
    }
    return parseHistoryReply(reply);
  }

  /** Moves a rewound history to a new epoch (unless someone did already); its newest entry is announced. */
  private async fork(channel: string, expectedEpoch: string, floorSeq: number): Promise<void> {
    const keys = channelKeys(this.options.keyPrefix, channel);
    try {
      await this.bounded(sendFork(this.topology.command, keys, channel, expectedEpoch, floorSeq, this.options.logger), 0, 'fork');
    } catch (error) {
      throw toBrokerError(error, 'history');
    }
  }

  /**
   * The own-append fast path: an append of this node settled, with the entries it stored. The
   * announcements held for it go first, in order (those it covers are not parsed); then what it
   * stored goes to the listener at once if it continues exactly what the listener was handed
   * (the reply came before the announcement), else the announcement brings it, in order.
   */
  private settleOwn(channel: string, own: OwnAppends, append: number, stored: readonly Entry[]): void {
    own.end(append, stored);
    if (this.own.get(channel) !== own) return; // unsubscribed meanwhile
    for (const held of own.release()) this.announced(channel, held);
    const epoch = stored[0]?.epoch;
    const handed = epoch === undefined ? undefined : this.seen.handedIn(channel, epoch);
    if (epoch === undefined || handed === undefined) return;
    const entries = own.following(epoch, handed);
    const last = entries[entries.length - 1];
    if (last) this.hand(channel, epoch, last.seq, entries);
  }

  /** A pub/sub message: one appended batch, one stored entry per line, oldest first. */
  private onLive(channel: string, message: string): void {
    const announcement: HeldAnnouncement = { message, span: peekAnnouncement(message, channel) };
    const own = this.own.get(channel);
    if (own?.hold(announcement)) return;
    if (own) for (const held of own.releaseAll()) this.announced(channel, held);
    this.announced(channel, announcement);
  }

  private announced(channel: string, { message, span: peeked }: HeldAnnouncement): void {
    if (!this.listeners.has(channel)) return;
    // Parsed up front only when its span could not be read without parsing.
    let entries = peeked ? undefined : parseAnnouncement(message);
    const span = peeked ?? spanOf(entries);
    if (!span) return this.malformed(channel);
    const { epoch, firstSeq, lastSeq } = span;
    if (this.seen.sawAnnouncement(channel, epoch, firstSeq, lastSeq) !== 'ok') {
      // A seq announced twice in one epoch: the history was rewound and new appends reuse its seqs.
      void this.fork(channel, epoch, ANY_SEQ)
        .then(() => this.catchUp(channel))
        .catch((error: unknown) => this.options.logger?.warn({ err: error, channel }, 'could not move a rewound history to a new epoch'));
      return;
    }
    // What a catch-up or the fast path handed over already is not handed twice (nor parsed).
    const upTo = this.seen.handedUpTo(channel, epoch);
    if (lastSeq <= upTo) return;
    const own = this.own.get(channel);
    entries ??= own?.take(span) ?? parseAnnouncement(message);
    if (!entries) return this.malformed(channel);
    this.hand(channel, epoch, lastSeq, upTo === 0 ? entries : entries.filter((entry) => entry.seq > upTo));
  }

  private malformed(channel: string): void {
    this.options.logger?.warn({ channel }, 'malformed live announcement; ignoring');
  }

  /** Hands entries of `epoch` up to `lastSeq`, in seq order, to the channel's listener. */
  private hand(channel: string, epoch: string, lastSeq: number, entries: Entry[]): void {
    const listener = this.listeners.get(channel);
    if (!listener) return;
    this.seen.handed(channel, epoch, lastSeq);
    this.own.get(channel)?.handed(epoch, lastSeq);
    try {
      listener(entries);
    } catch (error) {
      this.options.logger?.warn({ err: error, channel }, 'live listener threw; ignoring');
    }
  }

  /** Hands the channel's newest entry to its listener, whose merge reads what lies before it. */
  private async catchUp(channel: string): Promise<void> {
    if (this.closing || !this.listeners.has(channel)) return;
    try {
      const page = await this.history(channel, { limit: 1 });
      const newest = page.entries[0];
      if (!newest || newest.seq <= this.seen.handedUpTo(channel, newest.epoch)) return;
      this.hand(channel, newest.epoch, newest.seq, [newest]);
    } catch (error) {
      this.options.logger?.warn({ err: error, channel }, 'could not catch up a re-subscribed channel; its next announcement will');
    }
  }

  /** Cluster commands get an overall deadline (ioredis retries redirections within it). */
  private bounded<T>(work: Promise<T>, extraMs: number, operation: string): Promise<T> {
    if (this.topology.mode === 'standalone') return work;
    return withDeadline(work, this.options.commandTimeoutMs + extraMs, operation);
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerClosedError();
  }

  private isReady(): boolean {
    const { command, acked, live, mode } = this.topology;
    return command.status === 'ready' && (acked === undefined || acked.status === 'ready') && (mode === 'cluster' || live.inPlace);
  }

  private settle(): void {
    if (!this.closing) this.readiness.settle(this.topology.live.size);
  }
}

/** Returns at once; connects in the background (a server may start while Redis is still down). */
export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}
