// Connections to a Redis Cluster: the seed list (REDIS_CLUSTER_NODES) as ioredis Cluster options
// with the same credentials, TLS pinning and fail-fast settings as a connection to one Redis, and
// the plain per-node connections the sharded subscriber opens to each shard's master.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import {
  type BrokerLogger,
  type RedisConnectionOptions,
  connectionProblem,
  failFastOptions,
  pinTls,
  retryDelayMs,
} from './redis-connection.js';

export interface ClusterTarget {
  nodes: Array<{ host: string; port: number }>;
  /** Credentials and TLS, the same for every node. */
  auth: Pick<RedisOptions, 'username' | 'password' | 'tls'>;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/**
 * Parses seed nodes: `host:port,host:port,...` (plain TCP, no credentials), or one URL with
 * several hosts, `redis://[user:pass@]host:port,host:port` / `rediss://...` (TLS), whose
 * credentials and scheme apply to every node (a cluster has no databases, so no /db). IPv6
 * hosts are written in brackets. Throws with what is wrong.
 */
export function clusterTargetFromNodes(spec: string, tlsCa?: string): ClusterTarget {
  let list = spec.trim();
  const auth: ClusterTarget['auth'] = {};
  const scheme = /^(rediss?):\/\//.exec(list);
  if (scheme) {
    list = list.slice(scheme[0].length);
    const at = list.lastIndexOf('@');
    if (at !== -1) {
      const [user = '', ...password] = list.slice(0, at).split(':');
      if (user !== '') auth.username = decodeURIComponent(user);
      if (password.length > 0) auth.password = decodeURIComponent(password.join(':'));
      list = list.slice(at + 1);
    }
    if (list.endsWith('/')) list = list.slice(0, -1);
    if (list.includes('/')) throw new Error('cluster nodes take no path: a Redis Cluster has only database 0');
    if (scheme[1] === 'rediss') auth.tls = tlsCa === undefined ? {} : { ca: tlsCa };
  }
  if (!auth.tls && tlsCa !== undefined) throw new Error('a TLS CA applies only to rediss:// cluster nodes');
  const nodes = list.split(',').map((item) => {
    const match = HOST_PORT.exec(item.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new Error(`not a host:port: ${JSON.stringify(item.trim())}`);
    return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port };
  });
  return { nodes, auth };
}

/**
 * ioredis Cluster options for one sigcast client of the cluster. Commands fail fast as on one
 * Redis (503 and the publisher retries); MOVED, ASK, TRYAGAIN, CLUSTERDOWN and a closed node are
 * retried by ioredis within its redirection budget, which is safe for appends (their ids make a
 * second run a duplicate). Node connections do not reconnect by themselves: the slot map
 * (refreshed on MOVED and every few seconds) says where to go.
 */
export function redisClusterOptions(options: RedisConnectionOptions, connectionName: string, pipelined: boolean): { nodes: ClusterTarget['nodes']; options: ClusterOptions } {
  if (options.clusterNodes === undefined) throw new Error('cluster nodes are needed for a Redis Cluster connection');
  const target = clusterTargetFromNodes(options.clusterNodes, options.tlsCa);
  const { retryStrategy: _retry, enableOfflineQueue: _queue, ...perNode } = failFastOptions(options, connectionName);
  return {
    nodes: target.nodes,
    options: {
      redisOptions: { ...pinTls(target.auth), ...perNode },
      enableOfflineQueue: false,
      enableAutoPipelining: pipelined,
      clusterRetryStrategy: (attempt: number) => retryDelayMs(attempt, options.retryBaseMs, options.retryMaxMs),
      slotsRefreshTimeout: options.commandTimeoutMs,
      // With TLS the certificate names the seed's host: keep host names instead of resolving them.
      ...(target.auth.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
    },
  };
}

export function createRedisCluster(options: RedisConnectionOptions, connectionName: string, pipelined = false): Cluster {
  const { nodes, options: clusterOptions } = redisClusterOptions(options, connectionName, pipelined);
  return new Cluster(nodes, clusterOptions);
}

/** A plain connection to one cluster node (`host:port` as the slot map names it). */
export function createNodeConnection(options: RedisConnectionOptions, nodeKey: string, connectionName: string): Redis {
  if (options.clusterNodes === undefined) throw new Error('cluster nodes are needed for a Redis Cluster connection');
  const { auth } = clusterTargetFromNodes(options.clusterNodes, options.tlsCa);
  const colon = nodeKey.lastIndexOf(':');
  return new Redis({ ...pinTls(auth), ...failFastOptions(options, connectionName), host: nodeKey.slice(0, colon), port: Number(nodeKey.slice(colon + 1)) });
}

/** A cluster also reports each node's connection failures ('node error'): once per node and problem. */
export function logNodeErrors(cluster: Cluster, connection: string, logger: BrokerLogger | undefined): void {
  const reported = new Set<string>();
  cluster.on('ready', () => reported.clear());
  cluster.on('node error', (error: unknown, node: string) => {
    const problem = connectionProblem(error);
    if (reported.has(`${node} ${problem}`)) return;
    reported.add(`${node} ${problem}`);
    logger?.warn({ err: error, connection, node, problem }, 'Redis Cluster node error; the slot map is refreshed and the command retried');
  });
}
