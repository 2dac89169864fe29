import type { Spawned } from '../lib/procs.js';
import type { RedisHandle } from '../lib/redis-server.js';
import type { SystemName } from '../lib/variants.js';

/** One running server process of a system under test. */
export interface BenchNode {
  readonly http: string;
  readonly ws: string;
  readonly proc: Spawned;
}

export interface StartOptions {
  /** Absent: the system runs without Redis (sigcast's memory broker, the raw uWS ceiling). */
  redis?: RedisHandle;
  transport: 'uws' | 'ws';
  /** Per-socket send buffer limit for systems that have one. */
  sendBufferBytes: number;
  /** Write a V8 CPU profile of the server into this folder (sigcast only). */
  cpuProfileDir?: string;
  /** A name that tells the nodes of one job apart (cross-node). */
  nodeName: string;
  /** The compiled sigcast checkout to run (sigcast only; sigcast-build.ts). */
  sigcastRoot?: string;
}

export interface SystemDef {
  readonly name: SystemName;
  /** One line for the report. */
  readonly description: string;
  /** Whether it needs Redis at all (raw-uws does not). */
  readonly redis: 'required' | 'optional' | 'none';
  /** Why it cannot run here (dependencies missing, native binary absent); undefined when it can. */
  unavailable(): string | undefined;
  start(options: StartOptions): Promise<BenchNode>;
  /** Text of the node's metrics, when it has an endpoint (sigcast: Prometheus /metrics). */
  metrics?(node: BenchNode): Promise<string>;
}
