// Where a Redis Cluster's shards are, for ShardedSubscriber: the cluster client's slot map (who
// masters which slot, refreshed by ioredis on MOVED and every few seconds, and here on demand) and
// one subscriber connection per master, opened when first needed and closed when its node serves
// no slot and holds nothing any more (failed over, removed).
import type { Cluster, Redis } from 'ioredis';
import type { BrokerLogger } from './redis-connection.js';
import { ShardConnection, type ShardEvents } from './shard-connection.js';

export class ShardMap {
  private readonly shards = new Map<string, ShardConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly connect: (nodeKey: string) => Redis,
    private readonly events: ShardEvents,
    pingMs: number,
    private readonly logger?: BrokerLogger,
  ) {
    this.heartbeat = setInterval(() => {
      for (const shard of this.shards.values()) void shard.ping();
    }, pingMs);
    this.heartbeat.unref();
  }

  get status(): string {
    const up = [...this.shards.values()].filter((shard) => shard.up).length;
    return `cluster ${this.cluster.status}, ${up}/${this.shards.size} shard connections up`;
  }

  /** The master of a slot, as the cluster client's slot map has it (undefined before it is known). */
  ownerOf(slot: number): string | undefined {
    return this.cluster.slots[slot]?.[0];
  }

  /** The subscriber connection to a master (`host:port`), opened now if needed. */
  shardFor(key: string): ShardConnection {
    let shard = this.shards.get(key);
    if (!shard) {
      shard = new ShardConnection(key, this.connect(key), this.events, this.logger);
      this.shards.set(key, shard);
    }
    return shard;
  }

  /** Closes connections to nodes that master no slot and are not in `used`. */
  closeIdle(used: ReadonlySet<ShardConnection | undefined>): void {
    const owners = new Set(this.cluster.slots.map((nodes) => nodes[0]));
    for (const [key, shard] of this.shards) {
      if (owners.has(key) || used.has(shard)) continue;
      shard.close();
      this.shards.delete(key);
    }
  }

  /** Asks the cluster for its slot map again; a changed map is reported by the 'refresh' event. */
  refresh(then?: () => void): void {
    if (!this.closed) this.cluster.refreshSlotsCache(then ? () => then() : undefined);
    else then?.();
  }

  refreshNow(): Promise<void> {
    return new Promise((resolve) => this.refresh(resolve));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const shard of this.shards.values()) shard.close();
    this.shards.clear();
  }
}
