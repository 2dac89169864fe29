import { Redis } from 'ioredis';
import { spawnProcess } from './procs.js';
import { parseCommandStats, type RedisHandle } from './redis-server.js';

/**
 * A private 3-master, 3-replica Redis Cluster for one benchmark job, started by
 * `scripts/cluster-local.ts --nodes 0 --json` (the launcher the tests use too), on free ports of
 * 127.0.0.1; stopping that process stops every node.
 */
interface LauncherReport {
  redisClusterNodes: string;
  redis: Array<{ address: string; pid: number; role: 'master' | 'replica' }>;
}

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export async function startRedisCluster(): Promise<RedisHandle> {
  const proc = spawnProcess('redis-cluster', process.execPath, ['--import', 'tsx', 'scripts/cluster-local.ts', '--nodes', '0', '--json'], { cwd: REPO_ROOT });
  let report: LauncherReport;
  try {
    report = JSON.parse(await proc.waitForLine(/^\{"redisClusterNodes"/, 120_000)) as LauncherReport;
  } catch (error) {
    await proc.stop(5000);
    throw error;
  }
  // Replicas run what their master ran: counting them would count every command twice.
  const admins = report.redis.filter((node) => node.role === 'master').map(({ address }) => {
    const [host = '127.0.0.1', port = '0'] = address.split(':');
    return new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  await Promise.all(admins.map((admin) => admin.connect()));
  const first = report.redis[0];
  return {
    port: Number(first?.address.split(':')[1] ?? 0),
    url: `redis://${first?.address ?? '127.0.0.1:0'}`,
    env: { REDIS_CLUSTER_NODES: report.redisClusterNodes },
    pids: report.redis.map((node) => node.pid),
    proc,
    /** Summed over the masters: each command ran on exactly one of them. */
    async commandStats() {
      const all: Record<string, number> = {};
      for (const admin of admins) {
        for (const [name, calls] of Object.entries(parseCommandStats(await admin.info('commandstats')))) all[name] = (all[name] ?? 0) + calls;
      }
      return all;
    },
    async stop() {
      for (const admin of admins) admin.disconnect();
      await proc.stop(10_000);
    },
  };
}
