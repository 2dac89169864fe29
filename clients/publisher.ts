// A publisher for bots: `publish(signal)` queues the signal and resolves once it is stored.
// Signals are batched by count and a short linger, sent over HTTP or a WebSocket, and retried on
// network errors, 503 and 429 with backoff (honouring Retry-After). Every signal gets its
// idempotency id before the first attempt, so a retry can never store it twice.
import { monotonicFactory } from 'ulid';
import type { PublishItem } from '../src/signal/schema.js';
import { SigcastClientError } from './events.js';
import { HttpSender, WebSocketSender, type PublishSender } from './publish-senders.js';
import { RETRY_DEFAULTS, retryDelay, type RetryOptions } from './retry-policy.js';
import { connect, type AckEntry, type SigcastClient } from './sigcast-client.js';
import type { Encoding, WebSocketConstructor } from './wire.js';

export interface PublisherOptions {
  /** `http(s)://host:port`: POST /v1/signals. `ws(s)://host:port[/v1/ws]`: publish frames on a WebSocket. */
  url?: string;
  /** Publish on this client's connection instead of `url` (close() leaves it open). */
  client?: SigcastClient;
  /** For a ws(s):// `url` on Node 20: the `ws` class. */
  WebSocket?: WebSocketConstructor;
  /** For a ws(s):// `url`. Default 'json'. */
  encoding?: Encoding;
  /** API key or JWT: `Authorization: Bearer` on HTTP, the client's token on WebSocket. */
  token?: string;
  /** Most signals per request. Default 500 (the server's MAX_BATCH is 1000 by default). */
  maxBatch?: number;
  /** How long a signal may wait for others to share its request. Default 5 ms. */
  lingerMs?: number;
  /** Most signals held (queued and in flight); past it publish() rejects with `queue_full`. Default 10,000. */
  maxQueue?: number;
  /**
   * Requests in flight at once. Default 1: a batch is stored (or given up) before the next leaves,
   * so seq order is publish order even across retries. More is faster, but a retried batch may
   * then be stored after a later one.
   */
  concurrency?: number;
  retry?: RetryOptions;
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Makes the id of a signal published without one. Default: a monotonic ULID. */
  newId?: () => string;
}

/** The stored entry of a signal (its first target channel), and every entry when it went to several channels. */
export interface PublishResult extends AckEntry {
  entries: AckEntry[];
  /** Requests it took (1 when no retry was needed). */
  attempts: number;
}

export interface PublisherStats {
  /** Signals held now: queued or in flight. */
  held: number;
  requests: number;
  retries: number;
  published: number;
  failed: number;
}

interface Pending {
  readonly item: PublishItem;
  resolve(result: PublishResult): void;
  reject(error: SigcastClientError): void;
}

export class SigcastPublisher {
  private readonly sender: PublishSender;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly retry: Required<RetryOptions>;
  private readonly newId: () => string;
  private readonly queue: Pending[] = [];
  private readonly unsettled = new Set<Pending>();
  private readonly flushWaiters = new Set<{ targets: Set<Pending>; resolve: () => void }>();
  private roomWaiters: Array<() => void> = [];
  private readonly counts = { requests: 0, retries: 0, published: 0, failed: 0 };
  private batchesInFlight = 0;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PublisherOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.lingerMs = options.lingerMs ?? 5;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.concurrency = options.concurrency ?? 1;
    this.retry = { ...RETRY_DEFAULTS, ...options.retry };
    this.newId = options.newId ?? monotonicFactory();
    this.sender = createSender(options);
  }

  /** Queues a signal; resolves once it is stored, rejects when it cannot be (see docs). */
  publish(signal: PublishItem): Promise<PublishResult> {
    if (this.closing) return Promise.reject(new SigcastClientError('client_closed', 'the publisher is closed'));
    if (this.unsettled.size >= this.maxQueue) {
      return Promise.reject(
        new SigcastClientError('queue_full', `the publisher holds ${this.maxQueue} signals not yet stored (maxQueue); await waitForRoom() or flush() before publishing more`),
      );
    }
    const item = signal.id === undefined ? { ...signal, id: this.newId() } : signal;
    return new Promise<PublishResult>((resolve, reject) => {
      const pending: Pending = { item, resolve, reject };
      this.queue.push(pending);
      this.unsettled.add(pending);
      if (this.queue.length >= this.maxBatch) this.dispatch();
      else this.lingerTimer ??= setTimeout(() => this.dispatch(), this.lingerMs);
    });
  }

  /** Resolves once publish() will accept a signal again (at once when the queue has room). */
  waitForRoom(): Promise<void> {
    if (this.unsettled.size < this.maxQueue || this.closing) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Sends what is queued now and resolves when every signal published before the call is stored or failed. */
  flush(): Promise<void> {
    this.dispatch();
    if (this.unsettled.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.add({ targets: new Set(this.unsettled), resolve }));
  }

  /** Stops accepting signals, waits for every held one (retries included), then closes the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const wake of this.roomWaiters.splice(0)) wake();
      await this.flush();
      await this.sender.close();
    })();
    return this.closing;
  }

  get stats(): PublisherStats {
    return { held: this.unsettled.size, ...this.counts };
  }

  private dispatch(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    while (this.batchesInFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.batchesInFlight += 1;
      void this.deliver(batch).finally(() => {
        this.batchesInFlight -= 1;
        this.dispatch();
      });
    }
  }

  /** Sends one batch until it is stored, cannot be, or its retry time is up. Never throws. */
  private async deliver(batch: Pending[]): Promise<void> {
    const deadline = Date.now() + this.retry.retryForMs;
    let items = batch;
    let attempt = 0;
    try {
      while (items.length > 0) {
        attempt += 1;
        this.counts.requests += 1;
        const outcome = await this.sender.send(items.map((pending) => pending.item));
        if (outcome.ok) return this.stored(items, outcome.entries, attempt);
        const { error } = outcome;
        const bad = badIndexes(error, items.length);
        if (bad) {
          // The server stored none of the batch: refuse the invalid signals, send the others again.
          items.forEach((pending, index) => bad.has(index) && this.fail(pending, itemError(error, index)));
          items = items.filter((_, index) => !bad.has(index));
          continue;
        }
        if ((error.code === 'batch_too_large' || error.code === 'body_too_large') && items.length > 1) {
          const half = Math.ceil(items.length / 2);
          await this.deliver(items.slice(0, half));
          return await this.deliver(items.slice(half));
        }
        const delayMs = retryDelay(attempt, outcome.retryAfterMs, this.retry);
        if (!outcome.retry || Date.now() + delayMs > deadline) return this.failAll(items, error);
        this.counts.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    } catch (error) {
      this.failAll(items, new SigcastClientError('internal', `publishing failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  private stored(items: Pending[], entries: AckEntry[], attempts: number): void {
    // One entry per signal and target channel, in request order (channels de-duplicated, as the server does).
    let at = 0;
    const perItem = items.map((pending) => {
      const count = pending.item.channels ? new Set(pending.item.channels).size : 1;
      return entries.slice(at, (at += count));
    });
    if (at !== entries.length) return this.failAll(items, new SigcastClientError('bad_answer', `the server answered ${entries.length} entries for ${at}`));
    items.forEach((pending, index) => {
      const own = perItem[index]!;
      this.counts.published += 1;
      this.settle(pending, () => pending.resolve({ ...own[0]!, entries: own, attempts }));
    });
  }

  private failAll(items: Pending[], error: SigcastClientError): void {
    for (const pending of items) this.fail(pending, error);
  }

  private fail(pending: Pending, error: SigcastClientError): void {
    this.counts.failed += 1;
    this.settle(pending, () => pending.reject(error));
  }

  private settle(pending: Pending, finish: () => void): void {
    this.unsettled.delete(pending);
    finish();
    for (const waiter of this.flushWaiters) {
      if (waiter.targets.delete(pending) && waiter.targets.size === 0) {
        this.flushWaiters.delete(waiter);
        waiter.resolve();
      }
    }
    if (this.roomWaiters.length > 0 && this.unsettled.size < this.maxQueue) for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

/** Creates a publisher; see PublisherOptions. */
export function createPublisher(options: PublisherOptions): SigcastPublisher {
  return new SigcastPublisher(options);
}

function createSender(options: PublisherOptions): PublishSender {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  if (options.client) return new WebSocketSender(options.client, false);
  const url = options.url;
  if (url === undefined) throw new Error('a publisher needs a url (http(s):// or ws(s)://) or a client');
  if (/^https?:\/\//i.test(url)) return new HttpSender(url, { token: options.token, timeoutMs });
  if (!/^wss?:\/\//i.test(url)) throw new Error(`publisher url must start with http(s):// or ws(s)://, not ${JSON.stringify(url)}`);
  const wsUrl = new URL(url);
  if (wsUrl.pathname === '/' || wsUrl.pathname === '') wsUrl.pathname = '/v1/ws';
  const client = connect(wsUrl.toString(), {
    requestTimeoutMs: timeoutMs,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.encoding ? { encoding: options.encoding } : {}),
    ...(options.token ? { token: options.token } : {}),
  });
  return new WebSocketSender(client, true);
}

/** The batch positions an invalid_signal answer names, when it names every bad one; else undefined. */
function badIndexes(error: SigcastClientError, size: number): Set<number> | undefined {
  if (error.code !== 'invalid_signal' || !error.details?.length) return undefined;
  const indexes = new Set(error.details.map((detail) => detail.index));
  if ([...indexes].some((index) => index === undefined || index < 0 || index >= size)) return undefined;
  return indexes as Set<number>;
}

/** The part of a batch's invalid_signal error that concerns one signal. */
function itemError(error: SigcastClientError, index: number): SigcastClientError {
  const details = (error.details ?? []).filter((detail) => detail.index === index).map(({ path, message }) => ({ path, message }));
  return new SigcastClientError('invalid_signal', `invalid signal: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}
