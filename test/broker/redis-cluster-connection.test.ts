import { describe, expect, test } from 'vitest';
import { GuardedConnector } from '../../src/broker/guarded-connector.js';
import { clusterTargetFromNodes, redisClusterOptions } from '../../src/broker/redis-cluster-connection.js';

const base = { retryBaseMs: 50, retryMaxMs: 2000, commandTimeoutMs: 1500 };

describe('Redis Cluster seed nodes (REDIS_CLUSTER_NODES)', () => {
  test('host:port lists, IPv6 in brackets, and one URL carrying credentials and TLS for every node', () => {
    expect(clusterTargetFromNodes('10.0.0.1:7000, 10.0.0.2:7001')).toEqual({ nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], auth: {} });
    expect(clusterTargetFromNodes('[::1]:7000').nodes).toEqual([{ host: '::1', port: 7000 }]);
    expect(clusterTargetFromNodes('redis://bot:p%40ss:w@h1:7000,h2:7000/')).toEqual({
      nodes: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7000 }],
      auth: { username: 'bot', password: 'p@ss:w' },
    });
    expect(clusterTargetFromNodes('rediss://:only-pass@h:7000').auth).toEqual({ password: 'only-pass', tls: {} });
    expect(clusterTargetFromNodes('rediss://h:7000', 'PEM').auth).toEqual({ tls: { ca: 'PEM' } });
  });

  test('refuses what a cluster cannot mean', () => {
    expect(() => clusterTargetFromNodes('redis://h:7000/3')).toThrow(/no path/);
    expect(() => clusterTargetFromNodes('h:7000', 'PEM')).toThrow(/only to rediss:\/\//);
    expect(() => clusterTargetFromNodes('h:70000')).toThrow(/not a host:port: "h:70000"/);
    expect(() => clusterTargetFromNodes('h')).toThrow(/not a host:port/);
  });

  test('cluster options: fail fast like one Redis, TLS verification pinned, host names kept for TLS', () => {
    const { nodes, options } = redisClusterOptions({ ...base, clusterNodes: 'rediss://u:p@redis-1.internal:7000', tlsCa: 'PEM' }, 'sigcast-command', true);
    expect(nodes).toEqual([{ host: 'redis-1.internal', port: 7000 }]);
    expect(options).toMatchObject({ enableOfflineQueue: false, enableAutoPipelining: true, slotsRefreshTimeout: 1500 });
    expect(options.redisOptions).toMatchObject({
      username: 'u',
      password: 'p',
      tls: { ca: 'PEM', rejectUnauthorized: true },
      connectionName: 'sigcast-command',
      Connector: GuardedConnector,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      commandTimeout: 1500,
    });
    // ioredis refuses these per node in a cluster: the cluster has its own.
    expect(options.redisOptions).not.toHaveProperty('retryStrategy');
    expect(options.redisOptions).not.toHaveProperty('enableOfflineQueue');
    expect(options.clusterRetryStrategy?.(3)).toBe(200);
    const resolved: string[] = [];
    options.dnsLookup?.('redis-1.internal', (_error, address) => resolved.push(address));
    expect(resolved).toEqual(['redis-1.internal']);
    expect(redisClusterOptions({ ...base, clusterNodes: 'h:7000' }, 'n', false).options.dnsLookup).toBeUndefined();
  });
});
