// When the publisher sends a batch again, and after how long (pure; the publisher does the I/O).
// Every signal carries its idempotency id from the first attempt, so any retry is safe: a batch
// the server stored before the answer was lost comes back as `duplicate: true` with its seq.
import { backoffDelay } from './backoff.js';

export interface RetryOptions {
  /** First backoff delay; it doubles per attempt up to `maxDelayMs`, half of it random. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap of the backoff delay. Default 5 s. */
  maxDelayMs?: number;
  /** How long one batch keeps being retried before its signals are rejected with the last error. Default 60 s. */
  retryForMs?: number;
}

export const RETRY_DEFAULTS = { initialDelayMs: 100, maxDelayMs: 5_000, retryForMs: 60_000 } as const;

/**
 * Error codes worth another attempt: the server or the way to it was unavailable for a while
 * (HTTP 503 `unavailable` / `shutting_down`, 429 `rate_limited`, a lost connection, a timeout).
 * Anything else (an invalid signal, a refused token) fails the same way every time.
 */
const RETRYABLE = new Set(['unavailable', 'shutting_down', 'rate_limited', 'network_error', 'connection_closed', 'timeout']);

export function isRetryable(code: string): boolean {
  return RETRYABLE.has(code);
}

/** HTTP statuses that mean "later": 503 (storage down, shutting down) and 429 (rate limited). */
export function isRetryableStatus(status: number): boolean {
  return status === 503 || status === 429;
}

/** A Retry-After header (delta seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day and month (Date.parse alone would take "-1" for a year).
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before attempt `attempt` (1 for the first retry). A server's Retry-After is honoured
 * (never sooner), with up to 10% added at random so that publishers told the same thing do not
 * come back in one burst; without it, exponential backoff with jitter.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, options: Required<RetryOptions>, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.round(retryAfterMs + random() * Math.min(retryAfterMs * 0.1, 1_000));
  return backoffDelay(attempt - 1, options.initialDelayMs, options.maxDelayMs, random);
}
