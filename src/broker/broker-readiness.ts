// When RedisBroker is ready, and when a resync is due. A connection that had been ready going
// down makes one due; it is reported to the onResync listeners once the broker is ready again (the
// command connections up and, on one Redis, every channel subscribed again), so whatever they
// re-read from history is followed by live announcements. The first connect is not a resync, and
// a Redis restart that drops every connection yields one resync, not one per connection.
import { BrokerClosedError } from './broker.js';
import type { BrokerLogger } from './redis-connection.js';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class BrokerReadiness {
  private readonly resyncListeners: Array<() => void> = [];
  private waiters: Waiter[] = [];
  private resyncPending = false;
  private closed = false;

  constructor(
    /** Whether the broker can serve now. */
    private readonly isReady: () => boolean,
    private readonly logger?: BrokerLogger,
  ) {}

  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerClosedError());
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  /** A connection that had been ready went down: announcements may be missed from now on. */
  lost(connection: string): void {
    if (this.closed) return;
    this.resyncPending = true;
    this.logger?.warn({ connection }, 'Redis connection lost; reconnecting');
  }

  /** A connection became ready (or subscriptions are back): wakes ready() waiters, reports a due resync. */
  settle(subscriptions: number): void {
    if (this.closed || !this.isReady()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (!this.resyncPending) return;
    this.resyncPending = false;
    this.logger?.info({ subscriptions }, 'Redis reconnected; resyncing');
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (error) {
        this.logger?.warn({ err: error }, 'onResync listener threw; ignoring');
      }
    }
  }

  close(): void {
    this.closed = true;
    this.resyncListeners.length = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new BrokerClosedError());
  }
}
