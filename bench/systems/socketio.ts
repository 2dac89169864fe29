import { startServerProcess } from './node-proc.js';
import { missingPeer } from './peers.js';
import type { SystemDef } from './types.js';

/** Baseline (3): Socket.IO 4 + @socket.io/redis-adapter (bench/peers/socketio-server.ts). */
export const socketio: SystemDef = {
  name: 'socketio',
  description: 'Socket.IO 4 (ws engine) + @socket.io/redis-adapter; rooms per channel, emit per signal',
  redis: 'required',
  unavailable: () => missingPeer('socket.io', '@socket.io/redis-adapter', 'ioredis'),
  start: (options) =>
    startServerProcess('socketio', ['--import', 'tsx', 'bench/peers/socketio-server.ts'], { REDIS_URL: options.redis?.url ?? '' }, '/healthz'),
};
