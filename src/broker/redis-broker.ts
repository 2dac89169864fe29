import type { Redis } from 'ioredis';
import {
  BrokerClosedError,
  type AppendResult,
  type Broker,
  type BrokerHealth,
  type HistoryPage,
  type HistoryQuery,
  type LiveListener,
} from './broker.js';
import { newEpoch } from './epoch.js';
import {
  type BrokerLogger,
  type CommandObserver,
  type RedisConnectionOptions,
  createRedisConnection,
  logConnectionErrors,
  timed,
  toBrokerError,
  unavailableReason,
} from './redis-connection.js';
import { channelKeys } from './redis-keys.js';
import { appendArgv, defineSigcastCommands, parseAppendReply, parseHistoryReply } from './redis-scripts.js';
import { RedisSubscriber } from './redis-subscriber.js';
import { CHANNEL_NAME_PATTERN, type Signal } from '../signal/schema.js';

export interface RedisBrokerOptions extends RedisConnectionOptions {
  /** Prefix of every key and pub/sub channel (REDIS_KEY_PREFIX). */
  keyPrefix: string;
  historySize: number;
  historyTtlMs: number;
  /** How often the subscriber connection is pinged to detect a silent one. @default 5000 */
  subscriberPingMs?: number;
  logger?: BrokerLogger;
  /** Told how long each command took (metrics). */
  observeCommand?: CommandObserver;
}

const DEFAULT_SUBSCRIBER_PING_MS = 5000;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Broker on Redis: one Lua script per append (store, trim, expire, announce), one per history read
 * (redis-scripts.ts), and a second connection in subscriber mode for live announcements
 * (redis-subscriber.ts).
 *
 * Resync: when a connection that had been ready goes down, a resync is due. It is reported to the
 * onResync listeners once the command connection is ready AND the subscriber has every channel
 * subscribed again (SUBSCRIBE acknowledged), so whatever they re-read from history is followed by
 * live announcements. A Redis restart drops both connections and yields one resync. The first
 * connect is not a resync.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis';
  private readonly command: Redis;
  private readonly subscriberConnection: Redis;
  private readonly live: RedisSubscriber;
  private readonly resyncListeners: Array<() => void> = [];
  private readyWaiters: Waiter[] = [];
  private closing: Promise<void> | undefined;
  private commandUp = false;
  private resyncPending = false;

  constructor(private readonly options: RedisBrokerOptions) {
    this.command = createRedisConnection(options, 'sigcast-command', true);
    defineSigcastCommands(this.command);
    logConnectionErrors(this.command, 'command', options.logger);
    this.command.on('ready', () => {
      this.commandUp = true;
      this.settle();
    });
    this.command.on('close', () => {
      if (!this.commandUp) return; // a failed reconnect attempt, already known to be down
      this.commandUp = false;
      this.connectionLost('command');
    });

    const subscriberConnection = createRedisConnection(options, 'sigcast-subscriber');
    logConnectionErrors(subscriberConnection, 'subscriber', options.logger);
    this.live = new RedisSubscriber(subscriberConnection, {
      pingMs: options.subscriberPingMs ?? DEFAULT_SUBSCRIBER_PING_MS,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.observeCommand ? { observeCommand: options.observeCommand } : {}),
      onInPlace: () => this.settle(),
      onLost: () => this.connectionLost('subscriber'),
    });
    this.subscriberConnection = subscriberConnection;
  }

  /** Resolves once both connections are ready and subscriptions are in place. */
  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new BrokerClosedError());
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  async append(channel: string, signals: readonly Signal[], idempotencyScope?: string): Promise<AppendResult> {
    this.assertOpen();
    // The script builds entry JSON by concatenation; only a safe channel name keeps it valid.
    if (!CHANNEL_NAME_PATTERN.test(channel)) throw new Error(`invalid channel name: ${JSON.stringify(channel)}`);
    const keys = channelKeys(this.options.keyPrefix, channel);
    const { historySize, historyTtlMs } = this.options;
    const epochCandidate = newEpoch();
    const argv = appendArgv(channel, epochCandidate, Date.now(), historySize, historyTtlMs, signals, idempotencyScope);
    let reply: unknown;
    try {
      reply = await timed(this.options.observeCommand, 'append', () => this.command.sigcastAppend(keys.log, keys.meta, keys.ids, keys.live, ...argv));
    } catch (error) {
      throw toBrokerError(error, 'append');
    }
    return parseAppendReply(reply, signals, epochCandidate);
  }

  async exists(channels: readonly string[]): Promise<boolean[]> {
    this.assertOpen();
    try {
      // One EXISTS per channel (its keys may live on different Cluster slots), pipelined in one write.
      const found = await timed(this.options.observeCommand, 'exists', () =>
        Promise.all(channels.map((channel) => this.command.exists(channelKeys(this.options.keyPrefix, channel).meta))),
      );
      return found.map((count) => count > 0);
    } catch (error) {
      throw toBrokerError(error, 'exists');
    }
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.assertOpen();
    const keys = channelKeys(this.options.keyPrefix, channel);
    const afterSeq = Math.max(0, Math.floor(query.afterSeq ?? 0));
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : Number.MAX_SAFE_INTEGER;
    let reply: unknown;
    try {
      reply = await timed(this.options.observeCommand, 'history', () => this.command.sigcastHistory(keys.log, keys.meta, String(afterSeq), String(limit)));
    } catch (error) {
      throw toBrokerError(error, 'history');
    }
    return parseHistoryReply(reply);
  }

  async subscribe(channel: string, listener: LiveListener): Promise<void> {
    this.assertOpen();
    await this.live.subscribe(channelKeys(this.options.keyPrefix, channel).live, channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.live.unsubscribe(channelKeys(this.options.keyPrefix, channel).live);
  }

  get liveSubscriptions(): number {
    return this.live.held;
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async health(): Promise<BrokerHealth> {
    if (this.closing) return { ok: false, failing: 'connection', detail: 'the broker is closed: this node is shutting down' };
    if (this.command.status !== 'ready') {
      return { ok: false, failing: 'connection', detail: `Redis is not connected (command connection: ${this.command.status})` };
    }
    if (!this.live.inPlace) {
      return { ok: false, failing: 'subscriptions', detail: `Redis live subscriptions not in place (subscriber connection: ${this.live.status})` };
    }
    const started = performance.now();
    try {
      await timed(this.options.observeCommand, 'ping', () => this.command.ping());
    } catch (error) {
      return { ok: false, failing: 'connection', detail: `${unavailableReason(error)} (no answer to PING)` };
    }
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.live.close();
    this.resyncListeners.length = 0;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.reject(new BrokerClosedError());
    await Promise.all([quitConnection(this.command), quitConnection(this.subscriberConnection)]);
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerClosedError();
  }

  private isReady(): boolean {
    return this.command.status === 'ready' && this.live.inPlace;
  }

  private connectionLost(connection: string): void {
    if (this.closing) return;
    this.resyncPending = true;
    this.options.logger?.warn({ connection }, 'Redis connection lost; reconnecting');
  }

  /** Called when a connection became ready: wakes ready() waiters and reports a due resync. */
  private settle(): void {
    if (this.closing || !this.isReady()) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (!this.resyncPending) return;
    this.resyncPending = false;
    this.options.logger?.info({ subscriptions: this.live.size }, 'Redis reconnected; resyncing');
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'onResync listener threw; ignoring');
      }
    }
  }
}

/** QUIT when connected (pending replies still arrive); otherwise just stop reconnecting. */
async function quitConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: the connection is unusable anyway
    }
  }
  redis.disconnect();
}

/** Returns at once; connects in the background (a server may start while Redis is still down). */
export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}
