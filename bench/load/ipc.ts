import type { ClientOptions } from '../clients/adapter.js';
import type { SystemName } from '../lib/variants.js';
import type { Completeness, Expected } from './tracker.js';

/** Messages between the bench (parent) and its load worker processes. */

export interface SubscriberSpec {
  /** Connections this worker opens. */
  connections: number;
  /** Index of this worker's first connection among all subscribers (spreads channels evenly). */
  offset: number;
  /** Connection i subscribes channels[(i * perConnection + j) % channels.length], j < perConnection. */
  channels: string[];
  perConnection: number;
  /** Replay the newest `last` entries on subscribe. */
  last?: number;
  /** Connect when `go` arrives (replay-storm), not during setup. */
  connectOnGo: boolean;
  /** How many connections connect at the same time during setup. */
  connectConcurrency: number;
  /** Connections that stop reading for `stallMs` after `go` (to make a node fall behind). */
  stallers: number;
  stallMs: number;
  recordLatency: boolean;
}

export interface PublisherSpec {
  /** One entry per publisher: the channels it publishes to, round robin. */
  publishers: Array<{ channels: string[] }>;
  batch: number;
  /** Publishes in flight per publisher ("as fast as acknowledged" with this window). */
  window: number;
  /** Signals per second per publisher; absent: as fast as acknowledged. */
  rate?: number;
  durationMs: number;
  /** Stop after this many signals per channel (warm-up), whatever the duration. */
  countPerChannel?: number;
  /** Do not publish more than this many entries ahead of the slowest subscriber (absent: no bound). */
  maxLag?: number;
}

export interface JobSetup {
  system: SystemName;
  client: ClientOptions;
  subs?: SubscriberSpec;
  pubs?: PublisherSpec;
}

export type ToWorker =
  | { t: 'setup'; job: JobSetup }
  | { t: 'go' }
  | { t: 'allow'; upTo: number }
  | { t: 'finish'; expected: Expected; drainMs: number }
  | { t: 'exit' };

export interface SubscriberReport extends Completeness {
  connections: number;
  connectFailures: number;
  deliveries: number;
  firstAt: number;
  lastAt: number;
  /** Encoded HDR histogram of end-to-end latency, microseconds. */
  latency: string;
  /** Encoded HDR histogram of time from `go` to a full replay per connection, microseconds. */
  replayDone: string;
  replayComplete: number;
  closes: Record<string, number>;
  resumes: number;
  errors: string[];
}

export interface PublisherReport {
  acked: number;
  /** Last acknowledged seq per channel. */
  lastSeq: Expected;
  startedAt: number;
  endedAt: number;
  /** Encoded HDR histogram of publish round trips (send to ack), microseconds. */
  ackLatency: string;
  errors: string[];
  lagWaits: number;
}

export type FromWorker =
  | { t: 'ready'; connected: number; failed: number; errors: string[] }
  | { t: 'progress'; minLast: number; deliveries: number }
  | { t: 'published'; report: PublisherReport }
  | { t: 'report'; report: SubscriberReport }
  | { t: 'error'; message: string };
