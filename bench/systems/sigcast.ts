import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitForHttp } from '../lib/procs.js';
import { REPO_ROOT, startServerProcess } from './node-proc.js';
import type { SystemDef } from './types.js';

/** sigcast itself, started as operators start it: `node bin/sigcast.js serve` on a compiled dist/ (sigcast-build.ts). */
export const sigcast: SystemDef = {
  name: 'sigcast',
  description: 'sigcast (this repo): validated ingest, Redis script per batch, hub ring, uWS topic fan-out',
  redis: 'optional',
  unavailable() {
    return existsSync(join(REPO_ROOT, 'src/cli.ts')) ? undefined : 'src/cli.ts does not exist yet (sigcast not runnable)';
  },
  async start(options) {
    const root = options.sigcastRoot ?? REPO_ROOT;
    const execArgs: string[] = [];
    if (options.cpuProfileDir) {
      mkdirSync(options.cpuProfileDir, { recursive: true });
      execArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
    }
    const env: Record<string, string> = {
      TRANSPORT: options.transport,
      LOG_LEVEL: 'warn',
      SEND_BUFFER_BYTES: String(options.sendBufferBytes),
      NODE_ID: options.nodeName,
    };
    if (options.redis) Object.assign(env, options.redis.env);
    const node = await startServerProcess(`sigcast:${options.nodeName}`, [...execArgs, join(root, 'bin/sigcast.js'), 'serve'], env, '/healthz', undefined, root);
    await waitForHttp(`${node.http}/readyz`, 15_000);
    return node;
  },
  async metrics(node) {
    const response = await fetch(`${node.http}/metrics`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? response.text() : '';
  },
};

/** The same sigcast on a 3-master Redis Cluster (sharded pub/sub): the engine starts the cluster. */
export const sigcastCluster: SystemDef = {
  ...sigcast,
  name: 'sigcast-cluster',
  description: 'sigcast on a 3-master, 3-replica Redis Cluster: REDIS_CLUSTER_NODES, SPUBLISH/SSUBSCRIBE on the owning shard',
  redis: 'required',
};
