import { onTestFinished } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '../../src/broker/redis-broker.js';

let prefixes = 0;

/**
 * A RedisBroker for one test, closed when the test finishes, with fast retries and a key prefix
 * of its own (tests then share a server without flushing anything).
 */
export function openTestBroker(url: string, options: Partial<RedisBrokerOptions> = {}): { broker: RedisBroker; prefix: string } {
  return openBroker({ url, ...options });
}

/** The same on a Redis Cluster: `seeds` as in REDIS_CLUSTER_NODES. */
export function openClusterTestBroker(seeds: string, options: Partial<RedisBrokerOptions> = {}): { broker: RedisBroker; prefix: string } {
  return openBroker({ clusterNodes: seeds, ...options });
}

function openBroker(options: Partial<RedisBrokerOptions>): { broker: RedisBroker; prefix: string } {
  const prefix = `t${process.pid}x${++prefixes}`;
  const broker = createRedisBroker({
    keyPrefix: prefix,
    historySize: 1000,
    historyTtlMs: 60_000,
    retryBaseMs: 20,
    retryMaxMs: 200,
    commandTimeoutMs: 1000,
    ...options,
  });
  onTestFinished(() => broker.close());
  return { broker, prefix };
}
