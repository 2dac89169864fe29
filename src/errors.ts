/**
 * The one catalog of errors: a stable code, the HTTP status it maps to, and for the fatal
 * WebSocket ones the close code. docs/protocol.md lists every entry.
 */
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
  unsupported_media_type: { status: 415, message: 'content-type must be application/json or application/msgpack' },
  wrong_encoding: { status: 400, message: 'frame type does not match the connection encoding' },
  too_many_subscriptions: { status: 400, message: 'too many subscriptions on this connection' },
  not_subscribed: { status: 400, message: 'not subscribed to this channel' },
  already_subscribed: { status: 400, message: 'already subscribed to this channel' },
  not_found: { status: 404, message: 'no such route' },
  method_not_allowed: { status: 405, message: 'method not allowed' },
  unavailable: { status: 503, message: 'storage is unavailable; retry later' },
  shutting_down: { status: 503, message: 'server is shutting down' },
  internal: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** WebSocket close codes sigcast uses; 4xxx are application codes documented in docs/protocol.md. */
export const CLOSE = {
  going_away: { code: 1001, reason: 'server shutting down' },
  frame_too_large: { code: 1009, reason: 'frame too large' },
  slow_consumer: { code: 4008, reason: 'slow consumer' },
} as const satisfies Record<string, { code: number; reason: string }>;

export type CloseName = keyof typeof CLOSE;

/** One item-level validation problem: which item of a batch, which field, what is wrong. */
export interface ErrorDetail {
  index?: number;
  path: string;
  message: string;
}

export class SigcastError extends Error {
  override readonly name = 'SigcastError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }
}

/** The JSON body of an HTTP error answer. */
export function errorBody(error: SigcastError): { error: { code: ErrorCode; message: string; details?: ErrorDetail[] } } {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}
