// What a bench job varies: the system under test, and how sigcast itself is run. Here, at the
// bottom, because the command line (lib/args.ts), the clients, the systems, the scenarios and
// the report all name them.

export type SystemName = 'sigcast' | 'sigcast-cluster' | 'raw-uws' | 'ws-ioredis' | 'socketio' | 'soketi';
/** What a run compares by default; sigcast-cluster (sigcast on a 3-master Redis Cluster) joins with --cluster. */
export const SYSTEMS: readonly SystemName[] = ['sigcast', 'raw-uws', 'ws-ioredis', 'socketio', 'soketi'];
export const ALL_SYSTEMS: readonly SystemName[] = [...SYSTEMS, 'sigcast-cluster'];
/** Systems that are sigcast itself (its variants, metrics, profiles and completeness rule apply). */
export const isSigcast = (system: SystemName): boolean => system === 'sigcast' || system === 'sigcast-cluster';

/** How sigcast itself is run in a job (the peers have one way each). */
export interface SigcastVariant {
  transport: 'uws' | 'ws';
  encoding: 'json' | 'msgpack';
  broker: 'memory' | 'redis';
  /** Subscribe with `batch` (the entries of one publish as one `entries` frame), as the TypeScript client does. */
  batch: boolean;
}
