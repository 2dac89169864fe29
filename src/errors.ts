// The one catalog of errors: each stable code with its HTTP status, its human message, for the
// codes that end a WebSocket its close code and reason, and for the retryable ones the
// Retry-After the answer carries. docs/protocol.md lists every entry (a test keeps them in step).
import { z } from 'zod';
import { boundedText } from './util/bounded-text.js';

interface CatalogEntry {
  readonly status: number;
  readonly message: string;
  /** Where the error ends a WebSocket connection: the close code and reason it sends. */
  readonly close?: { readonly code: number; readonly reason: string };
  /** Where a retry later is the right answer: the Retry-After of its HTTP answer, in seconds. */
  readonly retryAfterSeconds?: number;
}

export const ERRORS = {
  bad_request: { status: 400, message: 'bad request' },
  bad_json: { status: 400, message: 'body or frame is not valid JSON' },
  bad_msgpack: { status: 400, message: 'body or frame is not valid msgpack' },
  invalid_signal: { status: 400, message: 'one or more signals are invalid; nothing was stored' },
  invalid_frame: { status: 400, message: 'frame does not match the protocol' },
  unknown_op: { status: 400, message: 'unknown op' },
  invalid_channel: { status: 400, message: 'invalid channel name' },
  empty_batch: { status: 400, message: 'batch holds no signals' },
  batch_too_large: { status: 413, message: 'batch holds too many signals' },
  body_too_large: { status: 413, message: 'body is too large' },
  frame_too_large: { status: 413, message: 'frame is too large', close: { code: 1009, reason: 'frame too large' } },
  unsupported_media_type: { status: 415, message: 'content-type must be application/json or application/msgpack' },
  wrong_encoding: { status: 400, message: 'frame type does not match the connection encoding' },
  too_many_subscriptions: { status: 400, message: 'too many subscriptions on this connection' },
  not_subscribed: { status: 400, message: 'not subscribed to this channel' },
  already_subscribed: { status: 400, message: 'already subscribed to this channel' },
  not_found: { status: 404, message: 'no such route' },
  method_not_allowed: { status: 405, message: 'method not allowed' },
  request_timeout: { status: 408, message: 'the request did not arrive in time' },
  uri_too_long: { status: 414, message: 'the request target is too long' },
  upgrade_required: { status: 426, message: 'this endpoint needs a WebSocket upgrade (version 13)' },
  headers_too_large: { status: 431, message: 'the request headers are too large' },
  http_version_not_supported: { status: 505, message: 'only HTTP/1.0 and HTTP/1.1 are served' },
  too_many_new_channels: {
    status: 429,
    message: 'this publisher created as many new channels as it may per minute; retry later',
    retryAfterSeconds: 60,
  },
  too_many_channels: { status: 503, message: 'this node serves as many channels as it may; retry later', retryAfterSeconds: 1 },
  overloaded: { status: 503, message: 'too many subscribes are waiting on this node; retry later', retryAfterSeconds: 1 },
  slow_consumer: { status: 503, message: 'the send buffer is full', close: { code: 4008, reason: 'slow consumer' } },
  lagging: { status: 503, message: 'the reader fell further behind than MAX_LAG_MS', close: { code: 4008, reason: 'lagging' } },
  unavailable: { status: 503, message: 'storage is unavailable; retry later', retryAfterSeconds: 1 },
  shutting_down: {
    status: 503,
    message: 'server is shutting down',
    close: { code: 1001, reason: 'server shutting down' },
    retryAfterSeconds: 1,
  },
  internal: { status: 500, message: 'internal error' },
  unauthorized: { status: 401, message: 'a valid token or API key is required' },
  token_expired: { status: 401, message: 'the token expired', close: { code: 4401, reason: 'token expired' } },
  forbidden: { status: 403, message: 'the token does not allow this' },
  origin_not_allowed: { status: 403, message: 'requests from this Origin are not allowed (ALLOWED_ORIGINS)' },
  host_not_allowed: { status: 403, message: 'this node answers only to loopback Host names (DNS rebinding)' },
  rate_limited: { status: 429, message: 'publish rate exceeded; retry later', retryAfterSeconds: 1 },
  auth_throttled: { status: 429, message: 'too many failed authentications from this address; retry later', retryAfterSeconds: 1 },
  too_many_connections: { status: 429, message: 'too many connections from this address', retryAfterSeconds: 1 },
  at_capacity: { status: 503, message: 'this node has as many connections as it takes; use another node or retry later', retryAfterSeconds: 1 },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes that end a connection, by the name the close is known under. */
export const CLOSE = {
  going_away: ERRORS.shutting_down.close,
  frame_too_large: ERRORS.frame_too_large.close,
  slow_consumer: ERRORS.slow_consumer.close,
  token_expired: ERRORS.token_expired.close,
  lagging: ERRORS.lagging.close,
} as const;

/** One item-level validation problem: which item of a batch, which field, what is wrong. */
export const ErrorDetailSchema = z.object({ index: z.number().int().optional(), path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

/**
 * An error lists at most this many details, each with a bounded path and message; `detailCount`
 * then says how many there were. A hostile body must not get an answer larger than itself.
 */
export const MAX_ERROR_DETAILS = 20;
const MAX_DETAIL_PATH = 128;
const MAX_DETAIL_MESSAGE = 256;

export class SigcastError extends Error {
  override readonly name: string = 'SigcastError';
  readonly status: number;
  /** A delay known only when the error happens (a rate limit's refill), overriding the catalog's. */
  readonly retryAfterMs: number | undefined;
  /** The channel the error is about (a `forbidden` one), named in the answer. */
  readonly channel: string | undefined;
  /** At most MAX_ERROR_DETAILS, each bounded. */
  readonly details?: ErrorDetail[];
  /** How many details there were, when `details` lists only the first of them. */
  readonly detailCount?: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    details?: ErrorDetail[],
    options?: { cause?: unknown; retryAfterMs?: number; channel?: string; detailCount?: number },
  ) {
    super(boundedText(message ?? ERRORS[code].message, 512), options);
    this.status = ERRORS[code].status;
    this.retryAfterMs = options?.retryAfterMs;
    this.channel = options?.channel;
    if (details !== undefined) {
      this.details = details.slice(0, MAX_ERROR_DETAILS).map(boundedDetail);
      const count = Math.max(options?.detailCount ?? 0, details.length);
      if (count > this.details.length) this.detailCount = count;
    }
  }

  get retryAfterSeconds(): number | undefined {
    if (this.retryAfterMs !== undefined) return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
    const entry: CatalogEntry = ERRORS[this.code];
    return entry.retryAfterSeconds;
  }
}

/** The error as sigcast reports it: a catalog error as it is, anything else as `internal`. */
export function asSigcastError(error: unknown): SigcastError {
  return error instanceof SigcastError ? error : new SigcastError('internal');
}

/** The JSON body of an HTTP error answer. */
export function errorBody(error: SigcastError): { error: { code: ErrorCode; message: string; channel?: string; details?: ErrorDetail[]; detailCount?: number } } {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.channel !== undefined ? { channel: error.channel } : {}),
      ...(error.details ? { details: error.details } : {}),
      ...(error.detailCount !== undefined ? { detailCount: error.detailCount } : {}),
    },
  };
}

function boundedDetail(detail: ErrorDetail): ErrorDetail {
  return { ...detail, path: boundedText(detail.path, MAX_DETAIL_PATH), message: boundedText(detail.message, MAX_DETAIL_MESSAGE) };
}
