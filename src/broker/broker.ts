import { SigcastError } from '../errors.js';
import type { Entry, Signal } from '../signal/schema.js';

/**
 * The Broker stores each channel's history and carries live entries between hub nodes.
 *
 * Contract (pinned by test/broker/broker.case.ts, run against every implementation):
 * - `append` stores a whole batch for ONE channel atomically: seq grows by exactly 1 per new entry,
 *   in batch order; history is trimmed to `historySize` newest entries and expires `historyTtlMs`
 *   after the last append; all new entries of the batch are announced to live listeners as one
 *   message, in seq order. It resolves only once the batch is stored ("acknowledged means stored").
 * - Idempotency: a signal whose `id` is already in the channel's retained history is not stored
 *   again; its result carries the original seq and `duplicate: true`, and it is not announced.
 *   With an `idempotencyScope` (the publishing principal), ids are recognized only within that
 *   scope: the same id from another scope, or from none, is a new signal. The stored and
 *   announced signal keeps the id as published.
 * - `epoch` names one continuous history of a channel. It changes only when the history was lost
 *   (expired, flushed, Redis restarted without persistence); seq then restarts at 1. It changes
 *   too when the history went backwards (shorter than what this broker saw of it: a failover or
 *   restart lost acknowledged appends); the retained entries then move to the new epoch with their
 *   seqs, so that no seq of the old epoch is ever given to another entry.
 * - `history` returns the retained entries with seq > `afterSeq` (all retained ones when absent),
 *   oldest first, at most the newest `limit`, together with the channel's epoch and head seq.
 * - `subscribe` resolves once live messages for the channel will reach the listener: every entry
 *   appended after it resolves is announced (pub/sub is still only a hint: announcements can be
 *   lost on reconnects, which `onResync` reports so callers re-read history). When it rejects,
 *   the channel is not subscribed, and nothing of the attempt stays behind in the store, even if
 *   the store runs it later. `unsubscribe` stops delivery at once; each channel is subscribed at
 *   most once, whatever order subscribes, unsubscribes, timeouts and reconnects happen in.
 * - Listeners never throw into the broker; `close` is idempotent.
 */
export interface Broker {
  readonly kind: 'memory' | 'redis';
  /** Resolves once the backing store is connected (at once for in-process brokers). */
  ready(): Promise<void>;
  append(channel: string, signals: readonly Signal[], idempotencyScope?: string): Promise<AppendResult>;
  history(channel: string, query: HistoryQuery): Promise<HistoryPage>;
  /** For each channel, in order: whether it has a history now (an append would not create it). */
  exists(channels: readonly string[]): Promise<boolean[]>;
  subscribe(channel: string, listener: LiveListener): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Live subscriptions this broker holds in its store (Redis pub/sub channels, once Redis ran
   * every command sent), for checking the hub's count against the store's own (PUBSUB NUMSUB).
   */
  readonly liveSubscriptions: number;
  /** Called after the live connection was re-established: announcements may have been missed. */
  onResync(listener: () => void): void;
  health(): Promise<BrokerHealth>;
  close(): Promise<void>;
}

export interface AppendResult {
  epoch: string;
  /** This append started the channel's history (it had none: never appended, expired or lost). */
  created: boolean;
  /** One result per input signal, in input order. */
  results: AppendedSignal[];
}

export interface AppendedSignal {
  id: string;
  seq: number;
  duplicate: boolean;
}

export interface HistoryQuery {
  /** Only entries with seq greater than this one. */
  afterSeq?: number;
  /** At most this many entries (the newest ones). */
  limit: number;
}

export interface HistoryPage {
  /** Empty string when the channel has no history at all (never appended, or expired). */
  epoch: string;
  /** The seq of the newest entry ever appended in this epoch (0 when none). */
  headSeq: number;
  /** Oldest first. */
  entries: Entry[];
}

/**
 * The key under which a signal's id is recorded: the id alone without a scope, else
 * `scope|id`. Ids never hold `|`, so no two (scope, id) pairs share a key.
 */
export function idempotencyKey(id: string, idempotencyScope: string | undefined): string {
  return idempotencyScope === undefined ? id : `${idempotencyScope}|${id}`;
}

/** Receives the entries of one appended batch, in seq order. */
export type LiveListener = (entries: Entry[]) => void;

export interface BrokerHealth {
  ok: boolean;
  latencyMs?: number;
  /** What is wrong, in sigcast's words (set when not ok; on a cluster also when ok but some subscriptions are moving). */
  detail?: string;
  /**
   * Which part is down when not ok: the store itself (`connection`), or only the live
   * subscriptions (`subscriptions`: the subscriber connection is down or re-subscribing).
   */
  failing?: 'connection' | 'subscriptions';
}

/**
 * Thrown when the backing store cannot be reached (503 + Retry-After). The message says what is
 * unavailable in sigcast's words; the library's own error stays in `cause`, for the logs.
 */
export class BrokerUnavailableError extends SigcastError {
  override readonly name = 'BrokerUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, undefined, options);
  }
}

/** Thrown by every call on a broker after `close()`: the node is shutting down. */
export class BrokerClosedError extends SigcastError {
  override readonly name = 'BrokerClosedError';
  constructor() {
    super('shutting_down', 'the broker is closed: this node is shutting down');
  }
}
