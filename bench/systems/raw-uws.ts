import { startServerProcess } from './node-proc.js';
import type { SystemDef } from './types.js';

/** Baseline (1): bare uWS topic publish (the server refuses to start on the JS emulation). */
export const rawUws: SystemDef = {
  name: 'raw-uws',
  description: 'bare uWebSockets.js app.publish to a topic: no Redis, no validation, no protocol (ceiling)',
  redis: 'none',
  unavailable: () => undefined,
  start: (options) =>
    startServerProcess(
      'raw-uws',
      ['--import', 'tsx', 'bench/servers/raw-uws-server.ts'],
      { SEND_BUFFER_BYTES: String(options.sendBufferBytes) },
      '/healthz',
    ),
};
