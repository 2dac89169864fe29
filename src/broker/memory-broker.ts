import type {
  AppendResult,
  AppendedSignal,
  Broker,
  BrokerHealth,
  HistoryPage,
  HistoryQuery,
  LiveListener,
} from './broker.js';
import { BrokerClosedError, idempotencyKey } from './broker.js';
import { newEpoch } from './epoch.js';
import type { Entry, Signal } from '../signal/schema.js';

export interface MemoryBrokerOptions {
  historySize: number;
  historyTtlMs: number;
  now?: () => number;
  /** How often expired channels are freed (at most the TTL). @default 1000 */
  expirySweepMs?: number;
}

const DEFAULT_EXPIRY_SWEEP_MS = 1000;

interface ChannelLog {
  epoch: string;
  headSeq: number;
  /**
   * Oldest first; the retained ones (at most historySize) start at `first`: trimmed entries are
   * cut off in bulk (see trim), so an append costs O(1) whatever the history size.
   */
  entries: Entry[];
  /** The idempotency key of each entry, in the same order as `entries`. */
  idKeys: string[];
  first: number;
  /** idempotency key -> seq of the retained entries. */
  idToSeq: Map<string, number>;
  expiresAt: number;
}

/** Trimmed entries kept at most before they are cut off the arrays: a quarter of the history (at least 64). */
function compactionPoint(historySize: number): number {
  return Math.max(64, historySize >> 2);
}

/**
 * In-process broker: the zero-setup default. Same contract as RedisBroker, one process only.
 * Expired channels are freed on a timer, as Redis expires keys: `logs` is kept in order of expiry
 * (every append moves its channel to the end, and the TTL is the same for all), so a sweep stops
 * at the first channel still alive and costs only what it frees.
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private readonly logs = new Map<string, ChannelLog>();
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly listeners = new Map<string, LiveListener>();
  private announcements: Array<{ listener: LiveListener; entries: Entry[] }> = [];
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: MemoryBrokerOptions) {
    this.now = options.now ?? Date.now;
    const sweepMs = Math.max(1, Math.min(options.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS, options.historyTtlMs));
    this.expiryTimer = setInterval(() => this.sweepExpired(), sweepMs);
    this.expiryTimer.unref();
  }

  /** Channels held (expired ones included until the next sweep). */
  get channelCount(): number {
    return this.logs.size;
  }

  /** Frees every channel whose history expired; returns how many. */
  sweepExpired(now: number = this.now()): number {
    let freed = 0;
    for (const [channel, log] of this.logs) {
      if (log.expiresAt > now) break;
      this.logs.delete(channel);
      freed += 1;
    }
    return freed;
  }

  async ready(): Promise<void> {
    this.assertOpen();
  }

  async append(channel: string, signals: readonly Signal[], idempotencyScope?: string): Promise<AppendResult> {
    this.assertOpen();
    const now = this.now();
    const existing = this.liveLog(channel, now);
    const log = existing ?? this.createLog(channel);
    const results: AppendedSignal[] = [];
    const fresh: Entry[] = [];
    for (const signal of signals) {
      const key = idempotencyKey(signal.id, idempotencyScope);
      const knownSeq = log.idToSeq.get(key);
      if (knownSeq !== undefined) {
        results.push({ id: signal.id, seq: knownSeq, duplicate: true });
        continue;
      }
      log.headSeq += 1;
      const entry: Entry = { channel, seq: log.headSeq, epoch: log.epoch, ts: now, signal };
      log.entries.push(entry);
      log.idKeys.push(key);
      log.idToSeq.set(key, entry.seq);
      fresh.push(entry);
      results.push({ id: signal.id, seq: entry.seq, duplicate: false });
    }
    this.trim(log);
    log.expiresAt = now + this.options.historyTtlMs;
    // To the end of the expiry order.
    this.logs.delete(channel);
    this.logs.set(channel, log);
    if (fresh.length > 0) this.announce(channel, fresh);
    return { epoch: log.epoch, created: existing === undefined, results };
  }

  async exists(channels: readonly string[]): Promise<boolean[]> {
    this.assertOpen();
    const now = this.now();
    return channels.map((channel) => this.liveLog(channel, now) !== undefined);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.assertOpen();
    const log = this.liveLog(channel, this.now());
    if (!log) return { epoch: '', headSeq: 0, entries: [] };
    // The retained entries are contiguous in seq, oldest first: the page is one slice of them.
    const end = log.entries.length;
    const oldest = log.entries[log.first];
    const afterSeq = query.afterSeq ?? 0;
    const from = oldest === undefined ? end : Math.max(log.first, Math.min(end, log.first + afterSeq - oldest.seq + 1));
    const entries = query.limit <= 0 ? [] : log.entries.slice(Math.max(from, end - query.limit), end);
    return { epoch: log.epoch, headSeq: log.headSeq, entries };
  }

  async subscribe(channel: string, listener: LiveListener): Promise<void> {
    this.assertOpen();
    this.listeners.set(channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.listeners.delete(channel);
  }

  get liveSubscriptions(): number {
    return this.listeners.size;
  }

  onResync(): void {
    // An in-process broker never loses announcements.
  }

  async health(): Promise<BrokerHealth> {
    if (this.closed) return { ok: false, failing: 'connection', detail: 'the broker is closed: this node is shutting down' };
    return { ok: true, latencyMs: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.expiryTimer);
    this.listeners.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerClosedError();
  }

  private liveLog(channel: string, now: number): ChannelLog | undefined {
    const log = this.logs.get(channel);
    if (log && log.expiresAt <= now) {
      this.logs.delete(channel);
      return undefined;
    }
    return log;
  }

  private createLog(channel: string): ChannelLog {
    const log: ChannelLog = { epoch: newEpoch(), headSeq: 0, entries: [], idKeys: [], first: 0, idToSeq: new Map(), expiresAt: 0 };
    this.logs.set(channel, log);
    return log;
  }

  /**
   * Keeps the newest historySize entries. Their ids are forgotten at once; the entries themselves
   * are cut off the arrays once a quarter of the history is trimmed (amortized O(1) per append,
   * at most 1.25 x the history held; `splice(0, 1)` per append was O(history size)).
   */
  private trim(log: ChannelLog): void {
    const excess = log.entries.length - log.first - this.options.historySize;
    if (excess <= 0) return;
    for (let i = log.first; i < log.first + excess; i++) log.idToSeq.delete(log.idKeys[i]!);
    log.first += excess;
    if (log.first < compactionPoint(this.options.historySize)) return;
    log.entries = log.entries.slice(log.first);
    log.idKeys = log.idKeys.slice(log.first);
    log.first = 0;
  }

  /**
   * Delivered on a later turn of the event loop, like a real pub/sub message: callers never see
   * re-entrancy, and fan-out happens outside the transport's message handler (uWS writes a
   * publish made inside a handler to every socket at once instead of coalescing per socket).
   */
  private announce(channel: string, entries: Entry[]): void {
    // Like PUBLISH, it reaches whoever is subscribed now, not whoever subscribes before delivery.
    const listener = this.listeners.get(channel);
    if (!listener) return;
    if (this.announcements.length === 0) setImmediate(() => this.flushAnnouncements());
    this.announcements.push({ listener, entries });
  }

  private flushAnnouncements(): void {
    const due = this.announcements;
    this.announcements = [];
    for (const { listener, entries } of due) {
      try {
        listener(entries);
      } catch {
        // Listeners must not throw; a faulty one must not break the publisher.
      }
    }
  }
}
