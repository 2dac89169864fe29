import type { Redis } from 'ioredis';
import type {
  AppendResult,
  Broker,
  BrokerHealth,
  HistoryPage,
  HistoryQuery,
  LiveListener,
} from './broker.js';
import { newEpoch } from './epoch.js';
import {
  type BrokerLogger,
  type RedisConnectionOptions,
  createRedisConnection,
  toBrokerError,
} from './redis-connection.js';
import { channelKeys } from './redis-keys.js';
import {
  appendArgv,
  defineSigcastCommands,
  parseAnnouncement,
  parseAppendReply,
  parseHistoryReply,
} from './redis-scripts.js';
import type { Config } from '../config.js';
import { CHANNEL_NAME_PATTERN, type Signal } from '../signal/schema.js';

export interface RedisBrokerOptions extends RedisConnectionOptions {
  /** Prefix of every key and pub/sub channel (REDIS_KEY_PREFIX). */
  keyPrefix: string;
  historySize: number;
  historyTtlMs: number;
  /** How often the subscriber connection is pinged to detect a silent one. @default 5000 */
  subscriberPingMs?: number;
  logger?: BrokerLogger;
}

const DEFAULT_SUBSCRIBER_PING_MS = 5000;

interface Subscription {
  channel: string;
  listener: LiveListener;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Broker on Redis: one Lua script per append (store, trim, expire, announce), one per history read,
 * and a second connection in subscriber mode for live announcements.
 *
 * Reconnects: the broker re-subscribes its own channels when the subscriber connection is ready
 * again and, once that SUBSCRIBE is acknowledged and the command connection is ready too, calls the
 * onResync listeners, so whatever they re-read from history is followed by live announcements.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis';
  private readonly command: Redis;
  private readonly subscriber: Redis;
  /** Keyed by the live pub/sub channel name, which is what messages arrive with. */
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly resyncListeners: Array<() => void> = [];
  private readyWaiters: Waiter[] = [];
  private closing: Promise<void> | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private pinging = false;

  private commandUp = false;
  private subscriberUp = false;
  /** True once the subscriber connection is ready and every subscription is re-established on it. */
  private subscriptionsInPlace = false;
  /** Bumped on every subscriber ready/close, so a stale re-subscription cannot mark itself done. */
  private subscriberGeneration = 0;
  /** A connection that had been ready went down: announcements may have been missed. */
  private resyncPending = false;

  constructor(private readonly options: RedisBrokerOptions) {
    this.command = createRedisConnection(options, 'sigcast-command');
    defineSigcastCommands(this.command);
    this.subscriber = createRedisConnection(options, 'sigcast-subscriber');
    this.watchCommandConnection();
    this.watchSubscriberConnection();
    this.subscriber.on('message', (live: string, message: string) => this.dispatch(live, message));
    this.heartbeat = setInterval(() => void this.pingSubscriber(), options.subscriberPingMs ?? DEFAULT_SUBSCRIBER_PING_MS);
    this.heartbeat.unref();
  }

  /** Resolves once both connections are ready and subscriptions are in place (tests, startup). */
  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('broker is closed'));
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  async append(channel: string, signals: readonly Signal[]): Promise<AppendResult> {
    this.assertOpen();
    // The script builds entry JSON by concatenation; only a safe channel name keeps it valid.
    if (!CHANNEL_NAME_PATTERN.test(channel)) throw new Error(`invalid channel name: ${JSON.stringify(channel)}`);
    const keys = channelKeys(this.options.keyPrefix, channel);
    const { historySize, historyTtlMs } = this.options;
    const argv = appendArgv(channel, newEpoch(), Date.now(), historySize, historyTtlMs, signals);
    let reply: unknown;
    try {
      reply = await this.command.sigcastAppend(keys.log, keys.meta, keys.ids, keys.live, ...argv);
    } catch (error) {
      throw toBrokerError(error, 'append');
    }
    return parseAppendReply(reply, signals);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.assertOpen();
    const keys = channelKeys(this.options.keyPrefix, channel);
    const afterSeq = Math.max(0, Math.floor(query.afterSeq ?? 0));
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : Number.MAX_SAFE_INTEGER;
    let reply: unknown;
    try {
      reply = await this.command.sigcastHistory(keys.log, keys.meta, String(afterSeq), String(limit));
    } catch (error) {
      throw toBrokerError(error, 'history');
    }
    return parseHistoryReply(reply);
  }

  async subscribe(channel: string, listener: LiveListener): Promise<void> {
    this.assertOpen();
    const live = channelKeys(this.options.keyPrefix, channel).live;
    const previous = this.subscriptions.get(live);
    const subscription: Subscription = { channel, listener };
    this.subscriptions.set(live, subscription);
    try {
      // Resolves when Redis acknowledged SUBSCRIBE: from then on every announcement reaches us.
      await this.subscriber.subscribe(live);
    } catch (error) {
      if (this.subscriptions.get(live) === subscription) {
        if (previous) this.subscriptions.set(live, previous);
        else this.subscriptions.delete(live);
      }
      throw toBrokerError(error, 'subscribe');
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const live = channelKeys(this.options.keyPrefix, channel).live;
    // Delivery stops here, whatever happens to the UNSUBSCRIBE below.
    if (!this.subscriptions.delete(live) || this.closing) return;
    try {
      await this.subscriber.unsubscribe(live);
    } catch (error) {
      // A leftover Redis subscription is harmless (messages for it are ignored) and ends with the
      // connection; failing the caller would not make it go away sooner.
      this.options.logger?.warn({ err: error, channel }, 'Redis UNSUBSCRIBE failed; ignoring');
    }
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async health(): Promise<BrokerHealth> {
    if (this.closing) return { ok: false, detail: 'closed' };
    if (this.command.status !== 'ready') return { ok: false, detail: `command connection is ${this.command.status}` };
    if (!this.subscriptionsInPlace) {
      return { ok: false, detail: `subscriptions not in place (subscriber connection is ${this.subscriber.status})` };
    }
    const started = performance.now();
    try {
      await this.command.ping();
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.subscriptions.clear();
    this.resyncListeners.length = 0;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error('broker is closed'));
    await Promise.all([quitConnection(this.command), quitConnection(this.subscriber)]);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('broker is closed');
  }

  private isReady(): boolean {
    return this.command.status === 'ready' && this.subscriptionsInPlace;
  }

  private watchCommandConnection(): void {
    this.watchErrors(this.command, 'command');
    this.command.on('ready', () => {
      this.commandUp = true;
      this.settle();
    });
    this.command.on('close', () => {
      if (!this.commandUp) return; // a failed reconnect attempt, already known to be down
      this.commandUp = false;
      this.connectionLost('command');
    });
  }

  private watchSubscriberConnection(): void {
    this.watchErrors(this.subscriber, 'subscriber');
    this.subscriber.on('ready', () => {
      this.subscriberUp = true;
      void this.resubscribe(++this.subscriberGeneration);
    });
    this.subscriber.on('close', () => {
      this.subscriberGeneration += 1;
      this.subscriptionsInPlace = false;
      if (!this.subscriberUp) return;
      this.subscriberUp = false;
      this.connectionLost('subscriber');
    });
  }

  /** ioredis reports every failed reconnect attempt; log once per outage, not once per attempt. */
  private watchErrors(redis: Redis, connection: string): void {
    let reported = false;
    redis.on('ready', () => {
      reported = false;
    });
    redis.on('error', (error: unknown) => {
      if (reported || this.closing) return;
      reported = true;
      this.options.logger?.warn({ err: error, connection }, 'Redis connection error; retrying with backoff');
    });
  }

  private connectionLost(connection: string): void {
    if (this.closing) return;
    this.resyncPending = true;
    this.options.logger?.warn({ connection }, 'Redis connection lost; reconnecting');
  }

  /**
   * A subscriber connection only receives, so a half-open TCP connection or a hung server would
   * stop announcements silently and forever. A ping that times out drops the connection, which
   * reconnects, re-subscribes and reports a resync like any other reconnect.
   */
  private async pingSubscriber(): Promise<void> {
    if (this.closing || this.pinging || this.subscriber.status !== 'ready') return;
    this.pinging = true;
    try {
      await this.subscriber.ping();
    } catch (error) {
      if (!this.closing && this.subscriber.status === 'ready') {
        this.options.logger?.warn({ err: error }, 'Redis subscriber connection unresponsive; reconnecting');
        // Not healthy from now on, although 'close' may take ioredis' disconnectTimeout to arrive.
        this.subscriptionsInPlace = false;
        this.subscriber.disconnect(true);
      }
    } finally {
      this.pinging = false;
    }
  }

  /** Subscribes again to every channel we serve (nothing on the first connect), then settles. */
  private async resubscribe(generation: number): Promise<void> {
    const lives = [...this.subscriptions.keys()];
    try {
      if (lives.length > 0) await this.subscriber.subscribe(...lives);
    } catch (error) {
      // The connection dropped again; its next 'ready' retries.
      this.options.logger?.warn({ err: error }, 'Redis re-subscribe failed; waiting for the next reconnect');
      return;
    }
    if (generation !== this.subscriberGeneration || this.closing) return;
    this.subscriptionsInPlace = true;
    this.settle();
  }

  /** Called when a connection became ready: wakes ready() waiters and reports a due resync. */
  private settle(): void {
    if (this.closing || !this.isReady()) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (!this.resyncPending) return;
    this.resyncPending = false;
    this.options.logger?.info({ subscriptions: this.subscriptions.size }, 'Redis reconnected; resyncing');
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'onResync listener threw; ignoring');
      }
    }
  }

  private dispatch(live: string, message: string): void {
    const subscription = this.subscriptions.get(live);
    if (!subscription) return; // unsubscribed meanwhile
    const entries = parseAnnouncement(message);
    if (!entries) {
      this.options.logger?.warn({ channel: subscription.channel }, 'malformed live announcement; ignoring');
      return;
    }
    try {
      subscription.listener(entries);
    } catch (error) {
      this.options.logger?.warn({ err: error, channel: subscription.channel }, 'live listener threw; ignoring');
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

/** RedisBroker options from the validated configuration; REDIS_URL must be set. */
export function redisBrokerOptionsFromConfig(config: Config, logger?: BrokerLogger): RedisBrokerOptions {
  if (config.REDIS_URL === undefined) throw new Error('REDIS_URL is not set');
  return {
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL_SECONDS * 1000,
    retryBaseMs: config.REDIS_RETRY_BASE_MS,
    retryMaxMs: config.REDIS_RETRY_MAX_MS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    ...(logger ? { logger } : {}),
  };
}
