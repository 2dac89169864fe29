import type { LatencySummary } from '../lib/hist.js';
import type { SigcastVariant, SystemName } from '../lib/variants.js';
import type { PublisherSpec, SubscriberSpec } from '../load/ipc.js';

/** Knobs a user may set on the command line; each scenario has its own defaults (quick and full). */
export interface Params extends SigcastVariant {
  durationS?: number;
  subscribers?: number;
  rate?: number;
  quick: boolean;
}

/** Everything one (scenario, system) job does, decided before it starts. */
export interface JobPlan {
  scenario: string;
  system: SystemName;
  nodes: 1 | 2;
  redis: boolean;
  /** A 3-master Redis Cluster instead of one redis-server (sigcast-cluster). */
  cluster: boolean;
  subscribers: number;
  subs: Omit<SubscriberSpec, 'connections' | 'offset'>;
  /** Publishers (absent: nobody publishes during the measured phase). */
  pubs?: PublisherSpec;
  /** Entries published per channel before subscribers come (replay-storm), with one subscriber keeping the channel warm. */
  warm?: { channels: string[]; count: number };
  /** Measure memory per idle connection instead of traffic. */
  idle: boolean;
  /** How long subscribers may take, after publishing ends, to receive everything acknowledged. */
  drainMs: number;
  /** A bound on the measured phase without publishers (replay-storm). */
  maxPhaseMs: number;
  sendBufferBytes: number;
  encoding: 'json' | 'msgpack';
  /** sigcast subscriptions ask for `batch` (SigcastVariant). */
  batch: boolean;
  transport: 'uws' | 'ws';
  publishVia: 'ws' | 'http';
  resume: boolean;
  /** One line that says what this job does, for the report. */
  summary: string;
}

export interface ScenarioDef {
  name: string;
  description: string;
  /** Why this scenario means nothing for a system (undefined: it applies). */
  notApplicable(system: SystemName): string | undefined;
  plan(system: SystemName, params: Params): JobPlan;
}

/** Busy fractions while a job's load ran: of one core for the busiest process of each part, of every core for the machine. */
export interface Busy {
  wallMs: number;
  server: number;
  subscribers: number;
  publishers: number;
  redis: number;
  /** This job's processes, as a fraction of every core. */
  machine: number;
  /** Every process of the machine (other work included), as a fraction of every core. */
  system?: number;
}

export interface JobResult {
  scenario: string;
  system: SystemName;
  status: 'ok' | 'skipped' | 'n/a' | 'failed';
  reason?: string;
  summary?: string;
  startedAt?: string;
  /** The machine's 1-minute load average when the job started (2 cores: above 2 means contention). */
  loadAverage?: number;
  publishSeconds?: number;
  acked?: number;
  ackedPerSec?: number;
  deliveries?: number;
  deliveriesPerSec?: number;
  latency?: LatencySummary;
  ackLatency?: LatencySummary;
  replay?: { complete: number; expected: number; done?: LatencySummary };
  cpu?: {
    serverMs: number;
    redisMs: number;
    usPerDelivery?: number;
    usPerSignal?: number;
    loadMs: number;
    /** Load-worker CPU per delivery, over the same window as the server's. */
    loadUsPerDelivery?: number;
    /** While the load ran (go to the publishers' end): see report/bound.ts. */
    busy?: Busy;
  };
  rss?: { startBytes: number; peakBytes: number; endBytes: number; perConnectionBytes?: number };
  connections?: { opened: number; failed: number };
  /** lost: holes; undelivered: acknowledged but not received when the drain time ran out. */
  completeness?: { subscriptions: number; lost: number; undelivered: number; duplicated: number; reordered: number; announced: number; incomplete: number };
  closes?: Record<string, number>;
  resumes?: number;
  redisCommands?: Record<string, number>;
  redisCommandsTotal?: number;
  redisCommandsPerSubscriber?: number;
  metricsDelta?: Record<string, number>;
  lagWaits?: number;
  errors?: string[];
  /** The server processes of the job (their CPU profiles are named by pid). */
  serverPids?: number[];
  /** With --profile: where each server process spent its CPU (report/profile-summary.ts). */
  profiles?: JobProfile[];
}

export interface JobProfile {
  file: string;
  busyMs: number;
  self: Array<{ frame: string; ms: number; percent: number }>;
}
