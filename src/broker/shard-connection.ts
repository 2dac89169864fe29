// One subscriber connection to the master of one Redis Cluster shard, for ShardedSubscriber: its
// lifecycle (a generation bumped on every ready and close, so stale acknowledgements are told
// apart), a heartbeat, and what ioredis cannot parse.
//
// When a slot leaves a node (resharding, or the node became a replica), Redis pushes SUNSUBSCRIBE
// for each of its shard channels to their subscribers. ioredis takes that push for the reply to
// the oldest pending command: with none pending it reports "Command queue state error ... Last
// reply: sunsubscribe,<channel>,<count>"; with one pending, that command is resolved by the push
// and its own reply is reported instead. The first case names exactly what was pushed out; in
// any other case the connection's view of its subscriptions cannot be trusted, so it reconnects
// (and its channels are subscribed again from scratch).
import type { Redis } from 'ioredis';
import type { BrokerLogger } from './redis-connection.js';

export interface ShardEvents {
  ready(shard: ShardConnection): void;
  /** The connection went down (or was dropped as unresponsive). */
  lost(shard: ShardConnection): void;
  message(shard: ShardConnection, live: string, message: string): void;
  /** Redis pushed `live` out; false when it is not a channel held here (the shard then reconnects). */
  pushedOut(shard: ShardConnection, live: string): boolean;
  /** An SSUBSCRIBE got MOVED: the slot map is stale. */
  moved(shard: ShardConnection): void;
}

const QUEUE_STATE_ERROR = /^Command queue state error/;
const PUSHED_OUT = /Last reply: sunsubscribe,(.+),\d+$/;

export class ShardConnection {
  up = false;
  /** Bumped on every ready and close. */
  generation = 0;
  private pinging = false;
  private closed = false;
  private upWaiters: Array<() => void> = [];

  constructor(
    /** host:port as the slot map names the node. */
    readonly key: string,
    readonly connection: Redis,
    private readonly events: ShardEvents,
    private readonly logger?: BrokerLogger,
  ) {
    connection.on('smessage', (live: string, message: string) => events.message(this, live, message));
    connection.on('moved', () => events.moved(this));
    connection.on('ready', () => {
      this.up = true;
      this.generation += 1;
      const waiters = this.upWaiters;
      this.upWaiters = [];
      for (const wake of waiters) wake();
      events.ready(this);
    });
    connection.on('close', () => {
      this.generation += 1;
      if (!this.up) return; // a failed reconnect attempt, already known to be down
      this.up = false;
      if (!this.closed) events.lost(this);
    });
    connection.on('error', (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (this.closed || !QUEUE_STATE_ERROR.test(message)) return;
      const live = PUSHED_OUT.exec(message)?.[1];
      if (live !== undefined && events.pushedOut(this, live)) return;
      this.logger?.warn({ node: key }, 'Redis pushed subscriptions out of a sharded subscriber connection; reconnecting it');
      this.drop();
    });
  }

  /** Resolves when the connection is ready, or after `timeoutMs` (the caller checks `up`). */
  whenUp(timeoutMs: number): Promise<void> {
    if (this.up || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.upWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * A subscriber connection only receives, so a half-open TCP connection or a hung node would
   * stop announcements silently: a ping that fails drops the connection, which reconnects.
   */
  async ping(): Promise<void> {
    if (this.closed || this.pinging || !this.up) return;
    this.pinging = true;
    try {
      await this.connection.ping();
    } catch (error) {
      if (!this.closed && this.up) {
        this.logger?.warn({ err: error, node: this.key }, 'Redis sharded subscriber connection unresponsive; reconnecting');
        this.drop();
      }
    } finally {
      this.pinging = false;
    }
  }

  /** Drops the connection now (it reconnects); its subscriptions count as lost from here. */
  drop(): void {
    if (this.up) {
      this.up = false;
      this.generation += 1;
      this.events.lost(this);
    }
    this.connection.disconnect(true);
  }

  close(): void {
    this.closed = true;
    this.up = false;
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const wake of waiters) wake();
    this.connection.disconnect();
  }
}
