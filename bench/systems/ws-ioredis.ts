import { startServerProcess } from './node-proc.js';
import type { SystemDef } from './types.js';

/** Baseline (2): node:http + ws + ioredis, LPUSH/LTRIM/PUBLISH per signal, forward to every socket. */
export const wsIoredis: SystemDef = {
  name: 'ws-ioredis',
  description: 'plain ws + ioredis: LPUSH/LTRIM/PUBLISH per signal, ws.send per socket per message',
  redis: 'required',
  unavailable: () => undefined,
  start: (options) =>
    startServerProcess('ws-ioredis', ['--import', 'tsx', 'bench/servers/ws-ioredis-server.ts'], { REDIS_URL: options.redis?.url ?? '' }, '/healthz'),
};
