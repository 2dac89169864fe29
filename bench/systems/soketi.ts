import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUSHER_APP } from '../clients/pusher-client.js';
import { freePort } from '../lib/ports.js';
import { REPO_ROOT, startServerProcess } from './node-proc.js';
import { missingPeer, PEERS_DIR, soketiUwsProblem } from './peers.js';
import type { SystemDef } from './types.js';

/**
 * Baseline (4): soketi 1.6 (Pusher protocol) with its Redis adapter. Every port it opens is bound
 * to 127.0.0.1 through its config file: the server, the metrics server and the UDP cluster
 * discovery (unicast to 127.0.0.1 instead of its default broadcast to 255.255.255.255).
 */
export const soketi: SystemDef = {
  name: 'soketi',
  description: 'soketi 1.6 (uWS, Pusher protocol) + Redis adapter; HTTP batch_events API',
  redis: 'required',
  unavailable: () => missingPeer('@soketi/soketi') ?? soketiUwsProblem(),
  async start(options) {
    const port = await freePort();
    const discoveryPort = await freePort();
    const redisPort = options.redis?.port ?? 6379;
    const config: Record<string, unknown> = {
      host: '127.0.0.1',
      port,
      'metrics.enabled': false,
      'metrics.host': '127.0.0.1',
      'metrics.port': await freePort(),
      'cluster.hostname': '127.0.0.1',
      'cluster.address': '127.0.0.1',
      'cluster.port': discoveryPort,
      'cluster.unicast': '127.0.0.1',
      'adapter.driver': 'redis',
      'database.redis.host': '127.0.0.1',
      'database.redis.port': redisPort,
      'appManager.array.apps': [
        { id: PUSHER_APP.id, key: PUSHER_APP.key, secret: PUSHER_APP.secret, maxConnections: -1, enableClientMessages: false, enabled: true,
          maxBackendEventsPerSecond: -1, maxClientEventsPerSecond: -1, maxReadRequestsPerSecond: -1, webhooks: [] },
      ],
      // Pusher's default is 10 events per batch call; the ingest scenario sends batches of 100.
      'eventLimits.maxBatchSize': 100,
      'eventLimits.maxChannelsAtOnce': 100,
    };
    const dir = join(REPO_ROOT, 'bench/results/tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `soketi-${options.nodeName}-${port}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const bin = join(PEERS_DIR, 'node_modules/@soketi/soketi/bin/server.js');
    // soketi reads SOKETI_* variables too: make sure none from the environment overrides the file.
    const env: Record<string, string> = { SOKETI_HOST: '127.0.0.1', SOKETI_PORT: String(port), SOKETI_METRICS_HOST: '127.0.0.1' };
    return startServerProcess(`soketi:${options.nodeName}`, [bin, 'start', `--config=${file}`], env, '/', port);
  },
};
