// The two ways the publisher sends one batch: an HTTP POST /v1/signals (fetch) or a publish frame
// on a SigcastClient's WebSocket. Both turn every answer into one outcome the publisher can act
// on, and never throw.
import type { PublishItem } from '../src/signal/schema.js';
import { SigcastClientError, type ErrorDetail } from './events.js';
import { isRetryable, isRetryableStatus, parseRetryAfter } from './retry-policy.js';
import type { AckEntry, SigcastClient } from './sigcast-client.js';

export type SendOutcome =
  | { ok: true; entries: AckEntry[] }
  | { ok: false; error: SigcastClientError; retry: boolean; retryAfterMs?: number };

export interface PublishSender {
  send(items: readonly PublishItem[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  token?: string | undefined;
  /** Per request, including reading the answer. */
  timeoutMs: number;
}

/** POST /v1/signals with a JSON array; `Authorization: Bearer <token>` when a token is set. */
export class HttpSender implements PublishSender {
  private readonly endpoint: string;

  /** `baseUrl` is the server (http://host:port), or the full /v1/signals URL. */
  constructor(
    baseUrl: string,
    private readonly options: HttpSenderOptions,
  ) {
    const url = new URL(baseUrl);
    if (!url.pathname.endsWith('/v1/signals')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/signals`;
    this.endpoint = url.toString();
  }

  async send(items: readonly PublishItem[]): Promise<SendOutcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(items), signal: AbortSignal.timeout(this.options.timeoutMs) });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const code = timedOut ? 'timeout' : 'network_error';
      return { ok: false, retry: true, error: new SigcastClientError(code, `POST ${this.endpoint} failed: ${describe(error)}`) };
    }
    const body = parseJson(text);
    if (response.ok) {
      const entries = (body as { entries?: unknown } | undefined)?.entries;
      if (Array.isArray(entries)) return { ok: true, entries: entries as AckEntry[] };
      return { ok: false, retry: false, error: new SigcastClientError('bad_answer', `the server answered ${response.status} without entries`) };
    }
    const failure = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const code = typeof failure?.code === 'string' ? failure.code : `http_${response.status}`;
    const message = typeof failure?.message === 'string' ? failure.message : `HTTP ${response.status}: ${text.slice(0, 200)}`;
    const details = Array.isArray(failure?.details) ? (failure.details as ErrorDetail[]) : undefined;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return {
      ok: false,
      retry: isRetryableStatus(response.status),
      error: new SigcastClientError(code, message, details),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }

  async close(): Promise<void> {}
}

/** A publish frame per batch on a SigcastClient, which reconnects by itself between attempts. */
export class WebSocketSender implements PublishSender {
  constructor(
    private readonly client: SigcastClient,
    /** Whether close() closes the client (the publisher made it) or leaves it to its owner. */
    private readonly owned: boolean,
  ) {}

  async send(items: readonly PublishItem[]): Promise<SendOutcome> {
    try {
      return { ok: true, entries: await this.client.publish(items) };
    } catch (error) {
      const failure = error instanceof SigcastClientError ? error : new SigcastClientError('socket_error', describe(error));
      return { ok: false, retry: isRetryable(failure.code), error: failure };
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.client.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports the socket-level reason (ECONNREFUSED, ECONNRESET) as its cause.
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
