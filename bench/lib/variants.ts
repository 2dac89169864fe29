// What a bench job varies: the system under test, and how sigcast itself is run. Here, at the
// bottom, because the command line (lib/args.ts), the clients, the systems, the scenarios and
// the report all name them.

export type SystemName = 'sigcast' | 'raw-uws' | 'ws-ioredis' | 'socketio' | 'soketi';
export const SYSTEMS: readonly SystemName[] = ['sigcast', 'raw-uws', 'ws-ioredis', 'socketio', 'soketi'];

/** How sigcast itself is run in a job (the peers have one way each). */
export interface SigcastVariant {
  transport: 'uws' | 'ws';
  encoding: 'json' | 'msgpack';
  broker: 'memory' | 'redis';
}
