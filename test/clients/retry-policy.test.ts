import { describe, expect, it } from 'vitest';
import { isRetryable, isRetryableStatus, parseRetryAfter, RETRY_DEFAULTS, retryDelay } from '../../clients/retry-policy.js';

describe('retry policy', () => {
  it('reads Retry-After as delta seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });

  it('never waits less than Retry-After, and adds at most 10% (capped at 1 s) of jitter', () => {
    expect(retryDelay(1, 2_000, RETRY_DEFAULTS, () => 0)).toBe(2_000);
    expect(retryDelay(1, 2_000, RETRY_DEFAULTS, () => 1)).toBe(2_200);
    expect(retryDelay(9, 60_000, RETRY_DEFAULTS, () => 1)).toBe(61_000);
  });

  it('backs off exponentially with jitter up to the cap without Retry-After', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000, retryForMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelay(attempt, undefined, options, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(retryDelay(3, undefined, options, () => 0)).toBe(200);
  });

  it('retries only what may succeed later: 503, 429, lost connections, timeouts', () => {
    expect([503, 429].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 415, 500].some(isRetryableStatus)).toBe(false);
    expect(['unavailable', 'shutting_down', 'rate_limited', 'network_error', 'connection_closed', 'timeout'].every(isRetryable)).toBe(true);
    expect(['invalid_signal', 'forbidden', 'unauthorized', 'client_closed', 'internal'].some(isRetryable)).toBe(false);
  });
});
