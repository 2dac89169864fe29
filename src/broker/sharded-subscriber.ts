// The live side of RedisBroker on a Redis Cluster: sharded pub/sub. A channel's announcements are
// SPUBLISHed by the shard that owns its slot, so it is SSUBSCRIBEd there, on one subscriber
// connection per shard master (shard-map.ts, shard-connection.ts), opened on demand. The cluster
// client's slot map says who owns what; whenever it changes (MOVED, a failover, a resharding, the periodic
// refresh) or a shard connection drops, reconcile() moves every affected channel to its owner,
// batching SSUBSCRIBEs per slot (one command may not span slots), and reports each channel that
// was lost and is back (`onRestored`), so that what it missed meanwhile is read from its list.
//
// Not ioredis's own `shardedSubscribers`: it re-subscribes without saying when that is done, and
// it takes Redis's SUNSUBSCRIBE pushes (a slot moving away) for replies to its commands.
import type { Cluster, Redis } from 'ioredis';
import { BrokerUnavailableError } from './broker.js';
import { keySlot } from './cluster-slot.js';
import type { AnnouncementListener, LiveSubscriber } from './live-subscriber.js';
import { type BrokerLogger, type CommandObserver, retryDelayMs, timed, toBrokerError } from './redis-connection.js';
import type { ShardConnection, ShardEvents } from './shard-connection.js';
import { ShardMap } from './shard-map.js';

export interface ShardedSubscriberOptions {
  /** How often each shard connection is pinged. */
  pingMs: number;
  /** How long subscribe() waits for a shard connection, and the reconcile retry backoff. */
  commandTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  logger?: BrokerLogger;
  observeCommand?: CommandObserver;
  /** Opens a subscriber connection to one node (`host:port` of the slot map). */
  connect(nodeKey: string): Redis;
  /** `channel` was lost (its shard dropped, failed over or gave its slot away) and is subscribed again. */
  onRestored(channel: string): void;
}

interface Subscription {
  channel: string;
  listener: AnnouncementListener;
  slot: number;
  /** Where its last SSUBSCRIBE went: announcements are taken from that connection only. */
  target: ShardConnection | undefined;
  /** The target's generation when that SSUBSCRIBE was acknowledged; undefined while not. */
  confirmed: number | undefined;
  /** Set once subscribe() resolved; until then subscribe() itself retries or fails. */
  established: boolean;
  /** Established, then lost: onRestored is due once it is confirmed again. */
  lost: boolean;
}

const SUBSCRIBE_ATTEMPTS = 3;

export class ShardedSubscriber implements LiveSubscriber, ShardEvents {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly shards: ShardMap;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private reconciling = false;
  private reconcileAgain = false;
  private closed = false;

  constructor(
    cluster: Cluster,
    private readonly options: ShardedSubscriberOptions,
  ) {
    this.shards = new ShardMap(cluster, options.connect, this, options.pingMs, options.logger);
    cluster.on('refresh', () => this.reconcile());
  }

  get inPlace(): boolean {
    for (const sub of this.subscriptions.values()) if (sub.established && !this.isInPlace(sub)) return false;
    return true;
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /** Established subscriptions: each is held on the shard owning its slot. */
  get held(): number {
    let held = 0;
    for (const sub of this.subscriptions.values()) if (sub.established) held += 1;
    return held;
  }

  get status(): string {
    return this.shards.status;
  }

  async subscribe(live: string, channel: string, listener: AnnouncementListener): Promise<void> {
    const previous = this.subscriptions.get(live);
    const sub: Subscription = { channel, listener, slot: keySlot(live), target: undefined, confirmed: undefined, established: false, lost: false };
    this.subscriptions.set(live, sub);
    try {
      await this.establish(live, sub);
      sub.established = true;
    } catch (error) {
      if (this.subscriptions.get(live) === sub) {
        if (previous) this.subscriptions.set(live, previous);
        else this.subscriptions.delete(live);
      }
      throw toBrokerError(error, 'subscribe');
    }
  }

  async unsubscribe(live: string): Promise<void> {
    const sub = this.subscriptions.get(live);
    // Delivery stops here, whatever happens to the SUNSUBSCRIBE below.
    if (!sub || this.closed) return;
    this.subscriptions.delete(live);
    await this.release(sub.target, [live]);
    this.closeIdleShards();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.subscriptions.clear();
    this.shards.close();
  }

  // ShardEvents

  ready(): void {
    this.reconcile();
  }

  lost(shard: ShardConnection): void {
    for (const sub of this.subscriptions.values()) if (sub.target === shard) this.markLost(sub);
    // The node may be gone for good (a failover follows): ask the cluster where slots are now.
    this.shards.refresh();
  }

  message(shard: ShardConnection, live: string, message: string): void {
    const sub = this.subscriptions.get(live);
    // From a connection the channel has left: not ours any more (its list has it anyway).
    if (!sub || sub.target !== shard) return;
    try {
      sub.listener(message);
    } catch (error) {
      this.options.logger?.warn({ err: error, channel: sub.channel }, 'live listener threw; ignoring');
    }
  }

  pushedOut(shard: ShardConnection, live: string): boolean {
    const sub = this.subscriptions.get(live);
    if (!sub || sub.target !== shard) return false;
    this.markLost(sub);
    this.shards.refresh();
    return true;
  }

  moved(): void {
    this.shards.refresh();
  }

  private async establish(live: string, sub: Subscription): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const owner = this.shards.ownerOf(sub.slot);
      if (owner === undefined) throw new BrokerUnavailableError('storage is unavailable: the Redis Cluster slot map is not known yet; the live subscription was not made; retry later');
      const shard = this.shards.shardFor(owner);
      await shard.whenUp(this.options.commandTimeoutMs);
      if (this.closed) return;
      const generation = shard.generation;
      try {
        if (!shard.up) throw new BrokerUnavailableError(`storage is unavailable: Redis Cluster node ${owner} is not connected; the live subscription was not made; retry later`);
        sub.target = shard;
        // Resolves when the shard acknowledged SSUBSCRIBE: from then on its announcements reach us.
        await timed(this.options.observeCommand, 'subscribe', () => shard.connection.ssubscribe(live));
      } catch (error) {
        // A MOVED reply never resolves (ioredis emits 'moved' instead) and ends as a timeout.
        if (attempt >= SUBSCRIBE_ATTEMPTS) throw error;
        await this.shards.refreshNow();
        continue;
      }
      if (shard.generation === generation && this.shards.ownerOf(sub.slot) === owner) {
        sub.confirmed = generation;
        return;
      }
      if (attempt >= SUBSCRIBE_ATTEMPTS) throw new BrokerUnavailableError('storage is unavailable: the Redis Cluster topology kept changing; the live subscription was not made; retry later');
    }
  }

  private isInPlace(sub: Subscription): boolean {
    const target = sub.target;
    return target !== undefined && target.up && sub.confirmed === target.generation && this.shards.ownerOf(sub.slot) === target.key;
  }

  private markLost(sub: Subscription): void {
    sub.confirmed = undefined;
    if (sub.established) sub.lost = true;
  }

  /** Serialized: one pass at a time, and one more when asked during a pass. */
  private reconcile(): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    void this.reconcilePasses().finally(() => {
      this.reconciling = false;
      if (this.closed) return;
      if (this.inPlace) {
        this.retryAttempt = 0;
        return;
      }
      this.scheduleRetry();
    });
  }

  private async reconcilePasses(): Promise<void> {
    const restored: string[] = [];
    do {
      this.reconcileAgain = false;
      await this.reconcileOnce(restored);
    } while (this.reconcileAgain && !this.closed);
    this.closeIdleShards();
    for (const live of restored) {
      const sub = this.subscriptions.get(live);
      if (sub?.confirmed !== undefined) this.options.onRestored(sub.channel);
    }
  }

  private async reconcileOnce(restored: string[]): Promise<void> {
    // shard -> slot -> channels to SSUBSCRIBE there
    const work = new Map<ShardConnection, Map<number, string[]>>();
    for (const [live, sub] of this.subscriptions) {
      if (!sub.established || this.isInPlace(sub)) continue;
      this.markLost(sub);
      const owner = this.shards.ownerOf(sub.slot);
      if (owner === undefined) continue;
      if (sub.target && sub.target.key !== owner) void this.release(sub.target, [live]);
      const shard = this.shards.shardFor(owner);
      sub.target = shard;
      if (!shard.up) continue; // its 'ready' reconciles again
      const slots = work.get(shard) ?? new Map<number, string[]>();
      slots.set(sub.slot, [...(slots.get(sub.slot) ?? []), live]);
      work.set(shard, slots);
    }
    await Promise.all(
      [...work].flatMap(([shard, slots]) =>
        [...slots.values()].map(async (lives) => {
          const generation = shard.generation;
          try {
            await timed(this.options.observeCommand, 'subscribe', () => shard.connection.ssubscribe(...lives));
          } catch (error) {
            this.options.logger?.warn({ err: error, node: shard.key, channels: lives.length }, 'Redis SSUBSCRIBE failed; retrying');
            return;
          }
          for (const live of lives) {
            const sub = this.subscriptions.get(live);
            if (!sub || sub.target !== shard || shard.generation !== generation) continue;
            sub.confirmed = generation;
            if (sub.lost) {
              sub.lost = false;
              restored.push(live);
            }
          }
        }),
      ),
    );
  }

  /** SUNSUBSCRIBE where a channel no longer is wanted; failures only leave ignored messages behind. */
  private async release(shard: ShardConnection | undefined, lives: string[]): Promise<void> {
    if (!shard?.up) return;
    try {
      await timed(this.options.observeCommand, 'unsubscribe', () => shard.connection.sunsubscribe(...lives));
    } catch (error) {
      this.options.logger?.warn({ err: error, node: shard.key }, 'Redis SUNSUBSCRIBE failed; ignoring');
    }
  }

  /** Connections to nodes that serve no slot any more (failed over, removed) and hold nothing. */
  private closeIdleShards(): void {
    this.shards.closeIdle(new Set([...this.subscriptions.values()].map((sub) => sub.target)));
  }

  /** While something is not in place: refresh the slot map (which reconciles) with backoff. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryAttempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.shards.refresh(() => this.reconcile());
    }, retryDelayMs(this.retryAttempt, this.options.retryBaseMs, this.options.retryMaxMs));
    this.retryTimer.unref();
  }
}
