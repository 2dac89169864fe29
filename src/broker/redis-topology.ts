// What RedisBroker talks to, in each of its two modes. One rule for pub/sub: one Redis (REDIS_URL)
// uses classic PUBLISH/SUBSCRIBE (any Redis version, and what every existing deployment runs); a
// Redis Cluster (REDIS_CLUSTER_NODES) uses sharded SPUBLISH/SSUBSCRIBE, so an announcement stays on
// the shard that owns its channel instead of being broadcast to every node of the cluster.
import type { Cluster, Redis } from 'ioredis';
import type { LiveSubscriber } from './live-subscriber.js';
import { createNodeConnection, createRedisCluster, logNodeErrors } from './redis-cluster-connection.js';
import { type BrokerLogger, type CommandObserver, type RedisConnectionOptions, createRedisConnection, logConnectionErrors } from './redis-connection.js';
import { BATCHED_PER_TURN, defineSigcastCommands } from './redis-scripts.js';
import { RedisSubscriber } from './redis-subscriber.js';
import { ShardedSubscriber } from './sharded-subscriber.js';

export type CommandClient = Redis | Cluster;

export interface TopologyOptions extends RedisConnectionOptions {
  subscriberPingMs: number;
  /** A connection of its own for appends that WAIT for replicas (see RedisBroker). */
  ackedAppends: boolean;
  logger?: BrokerLogger;
  observeCommand?: CommandObserver;
}

export interface TopologyHooks {
  /** Classic mode: the subscriber connection is back and every channel subscribed again. */
  onInPlace(): void;
  /** Classic mode: the subscriber connection that had been ready went down. */
  onLost(): void;
  /** Cluster mode: one channel was lost on its shard and is subscribed again (maybe elsewhere). */
  onRestored(channel: string): void;
}

export interface RedisTopology {
  readonly mode: 'standalone' | 'cluster';
  /** Appends (without WAIT) and history reads; auto-pipelined. */
  readonly command: CommandClient;
  /** Appends that WAIT (WAIT blocks its connection: history reads must not queue behind it). */
  readonly acked: CommandClient | undefined;
  readonly live: LiveSubscriber;
  /** QUIT where connected, else stop reconnecting. */
  quit(): Promise<void>;
}

export function openRedisTopology(options: TopologyOptions, hooks: TopologyHooks): RedisTopology {
  if ((options.url === undefined) === (options.clusterNodes === undefined)) {
    throw new Error('exactly one of a Redis URL and Redis Cluster nodes must be given');
  }
  return options.url !== undefined ? standalone(options, hooks) : cluster(options, hooks);
}

function standalone(options: TopologyOptions, hooks: TopologyHooks): RedisTopology {
  const open = (name: string): Redis => {
    const redis = createRedisConnection(options, name, true, BATCHED_PER_TURN);
    defineSigcastCommands(redis, 'PUBLISH');
    logConnectionErrors(redis, name, options.logger);
    return redis;
  };
  const command = open('sigcast-command');
  const acked = options.ackedAppends ? open('sigcast-append') : undefined;
  const subscriberConnection = createRedisConnection(options, 'sigcast-subscriber');
  logConnectionErrors(subscriberConnection, 'subscriber', options.logger);
  const live = new RedisSubscriber(subscriberConnection, {
    pingMs: options.subscriberPingMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.observeCommand ? { observeCommand: options.observeCommand } : {}),
    onInPlace: hooks.onInPlace,
    onLost: hooks.onLost,
  });
  const quit = () => Promise.all([command, acked, subscriberConnection].map((redis) => quitClient(redis))).then(() => undefined);
  return { mode: 'standalone', command, acked, live, quit };
}

function cluster(options: TopologyOptions, hooks: TopologyHooks): RedisTopology {
  const open = (name: string): Cluster => {
    const client = createRedisCluster(options, name, true);
    defineSigcastCommands(client, 'SPUBLISH');
    logConnectionErrors(client, name, options.logger);
    logNodeErrors(client, name, options.logger);
    return client;
  };
  const command = open('sigcast-command');
  const acked = options.ackedAppends ? open('sigcast-append') : undefined;
  const live = new ShardedSubscriber(command, {
    pingMs: options.subscriberPingMs,
    commandTimeoutMs: options.commandTimeoutMs,
    retryBaseMs: options.retryBaseMs,
    retryMaxMs: options.retryMaxMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.observeCommand ? { observeCommand: options.observeCommand } : {}),
    connect: (nodeKey) => {
      const connection = createNodeConnection(options, nodeKey, 'sigcast-ssubscriber');
      logConnectionErrors(connection, `ssubscriber ${nodeKey}`, options.logger);
      return connection;
    },
    onRestored: hooks.onRestored,
  });
  const quit = () => Promise.all([command, acked].map((client) => quitClient(client))).then(() => undefined);
  return { mode: 'cluster', command, acked, live, quit };
}

async function quitClient(client: CommandClient | undefined): Promise<void> {
  if (!client) return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the connection is unusable anyway
    }
  }
  client.disconnect();
}
