
/**
 * The live side of RedisBroker, one per mode: RedisSubscriber (classic SUBSCRIBE on one
 * connection to one Redis) and ShardedSubscriber (SSUBSCRIBE on each shard of a Redis Cluster).
 * `live` is the pub/sub channel (redis-keys.ts), `channel` the sigcast channel it carries.
 * Messages go to their listener as Redis delivered them: the broker parses what it needs.
 */
export interface LiveSubscriber {
  /** True when every subscription is established where its announcements are published. */
  readonly inPlace: boolean;
  /** Channels subscribed. */
  readonly size: number;
  /** Channels the store holds subscribed for this node, to check against it (PUBSUB CHANNELS). */
  readonly held: number;
  /** The connection state, for health details. */
  readonly status: string;
  /** Resolves once the store acknowledged the subscription: later announcements reach `listener`. */
  subscribe(live: string, channel: string, listener: AnnouncementListener): Promise<void>;
  /** Delivery stops at once. */
  unsubscribe(live: string): Promise<void>;
  close(): void;
}

/** Receives each announcement on a channel: the text the append script published. */
export type AnnouncementListener = (message: string) => void;
