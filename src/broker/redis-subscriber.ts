import type { Redis } from 'ioredis';
import type { AnnouncementListener } from './live-subscriber.js';
import { PubSubLedger } from './pubsub-ledger.js';
import { type BrokerLogger, type CommandObserver, timed, toBrokerError } from './redis-connection.js';

export interface RedisSubscriberOptions {
  /** How often the connection is pinged to detect a silent one. */
  pingMs: number;
  logger?: BrokerLogger;
  observeCommand?: CommandObserver;
  /** The subscriptions are (again) in place after a connect or reconnect. */
  onInPlace(): void;
  /** A connection that had been ready went down: announcements may have been missed. */
  onLost(): void;
}

interface Subscription {
  channel: string;
  listener: AnnouncementListener;
}

/**
 * The live side of RedisBroker: one connection in subscriber mode, one 'message' handler that
 * dispatches by pub/sub channel, and our own re-subscription after reconnects (ioredis'
 * autoResubscribe is off because it gives no signal for when SUBSCRIBE is acknowledged again).
 * Which channels Redis holds is the ledger's business (pubsub-ledger.ts): a SUBSCRIBE that timed
 * out is unsubscribed or adopted, never left behind.
 */
export class RedisSubscriber {
  /** Keyed by the pub/sub channel name, which is what messages arrive with. */
  private readonly subscriptions: PubSubLedger<Subscription>;
  private readonly heartbeat: NodeJS.Timeout;
  private up = false;
  private subscriptionsInPlace = false;
  /** Bumped on every ready/close, so a stale re-subscription cannot mark itself done. */
  private generation = 0;
  private pinging = false;
  private closed = false;

  constructor(
    private readonly connection: Redis,
    private readonly options: RedisSubscriberOptions,
  ) {
    this.subscriptions = new PubSubLedger<Subscription>({
      subscribe: (channels) => timed(options.observeCommand, 'subscribe', () => connection.subscribe(...channels)),
      unsubscribe: (channels) => timed(options.observeCommand, 'unsubscribe', () => connection.unsubscribe(...channels)),
      writable: () => connection.status === 'ready' && !this.closed,
      // A leftover Redis subscription is harmless (its messages are ignored) and ends with the
      // connection; failing the caller would not make it go away sooner.
      unsubscribeFailed: (error, channels) =>
        options.logger?.warn({ err: error, channels: channels.length }, 'Redis UNSUBSCRIBE failed; ignoring'),
    });
    connection.on('message', (live: string, message: string) => this.dispatch(live, message));
    connection.on('ready', () => {
      this.up = true;
      void this.resubscribe(++this.generation);
    });
    connection.on('close', () => {
      this.generation += 1;
      this.subscriptionsInPlace = false;
      this.subscriptions.lost();
      if (!this.up) return; // a failed reconnect attempt, already known to be down
      this.up = false;
      if (!this.closed) this.options.onLost();
    });
    this.heartbeat = setInterval(() => void this.ping(), options.pingMs);
    this.heartbeat.unref();
  }

  /** True once the connection is ready and every subscription is established on it. */
  get inPlace(): boolean {
    return this.subscriptionsInPlace;
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /** Channels Redis holds for this connection once it has run every command sent. */
  get held(): number {
    return this.subscriptions.held;
  }

  get status(): string {
    return this.connection.status;
  }

  async subscribe(live: string, channel: string, listener: AnnouncementListener): Promise<void> {
    try {
      // Resolves when Redis acknowledged SUBSCRIBE: from then on every announcement reaches us.
      await this.subscriptions.want(live, { channel, listener });
    } catch (error) {
      throw toBrokerError(error, 'subscribe');
    }
  }

  /** Delivery stops at once; resolves when Redis answered the UNSUBSCRIBE (failures are logged). */
  unsubscribe(live: string): Promise<void> {
    return this.subscriptions.drop(live);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.subscriptions.clear();
  }

  /** Subscribes again to every channel we serve (nothing on the first connect). */
  private async resubscribe(generation: number): Promise<void> {
    try {
      await this.subscriptions.restore();
    } catch (error) {
      // The connection dropped again; its next 'ready' retries.
      this.options.logger?.warn({ err: error }, 'Redis re-subscribe failed; waiting for the next reconnect');
      return;
    }
    if (generation !== this.generation || this.closed) return;
    this.subscriptionsInPlace = true;
    this.options.onInPlace();
  }

  /**
   * A subscriber connection only receives, so a half-open TCP connection or a hung server would
   * stop announcements silently and forever. A ping that times out drops the connection, which
   * reconnects, re-subscribes and reports a resync like any other reconnect.
   */
  private async ping(): Promise<void> {
    if (this.closed || this.pinging || this.connection.status !== 'ready') return;
    this.pinging = true;
    try {
      await timed(this.options.observeCommand, 'ping', () => this.connection.ping());
    } catch (error) {
      if (!this.closed && this.connection.status === 'ready') {
        this.options.logger?.warn({ err: error }, 'Redis subscriber connection unresponsive; reconnecting');
        // Not in place from now on, although 'close' may take ioredis' disconnectTimeout to arrive.
        this.subscriptionsInPlace = false;
        this.connection.disconnect(true);
      }
    } finally {
      this.pinging = false;
    }
  }

  private dispatch(live: string, message: string): void {
    const subscription = this.subscriptions.get(live);
    if (!subscription) return; // unsubscribed meanwhile
    try {
      subscription.listener(message);
    } catch (error) {
      this.options.logger?.warn({ err: error, channel: subscription.channel }, 'live listener threw; ignoring');
    }
  }
}
