import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { type Spawned, spawnProcess } from './procs.js';

/**
 * A private redis-server for one benchmark job, on a free port of 127.0.0.1, no persistence.
 * Never the shared Redis on 6379: we flush nothing that is not ours.
 */
export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  /** How sigcast is pointed at it: REDIS_URL, or REDIS_CLUSTER_NODES for a cluster (redis-cluster.ts). */
  readonly env: Record<string, string>;
  /** The redis-server processes (one here, every node of a cluster), for their CPU time. */
  readonly pids: readonly number[];
  readonly proc: Spawned;
  /** Calls per command since start (INFO commandstats), without the bench's own INFO calls. */
  commandStats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const proc = spawnProcess(`redis-server:${port}`, REDIS_BIN, [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--protected-mode', 'yes',
    // Default client-output-buffer-limit: a pub/sub reader that falls too far behind is cut off,
    // as in production; what each system does then is part of what cross-node shows.
  ]);
  await proc.waitForLine(/Ready to accept connections/, 10_000);
  const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    pids: [proc.pid],
    proc,
    async commandStats() {
      const info = await admin.info('commandstats');
      return parseCommandStats(info);
    },
    async stop() {
      admin.disconnect();
      await proc.stop(2000);
    },
  };
}

/** Parses `cmdstat_lpush:calls=3,usec=...` lines; drops the bench's own `info` calls. */
export function parseCommandStats(info: string): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, calls] = match;
    if (name && calls && name !== 'info') stats[name] = Number(calls);
  }
  return stats;
}

export function diffStats(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta > 0) diff[name] = delta;
  }
  return diff;
}
