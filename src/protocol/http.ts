// The HTTP side of the wire, shared by the routes and both transports: requests and answers as
// plain values (transports only move their bytes), and the one way an error becomes an answer.
import { ERRORS, SigcastError, errorBody } from '../errors.js';

export interface HttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The TCP peer's address (for per-address limits; X-Forwarded-For is the routes' business). */
  remoteAddress?: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** A catalog error as an HTTP answer: its status, its JSON body, and Retry-After where the catalog says. */
export function errorResponse(error: SigcastError, headers: Record<string, string> = {}): HttpResponse {
  const retryAfter = error.retryAfterSeconds;
  const extra = retryAfter === undefined ? headers : { 'retry-after': String(retryAfter), ...headers };
  return jsonResponse(error.status, errorBody(error), extra);
}

/** The answer to a request whose handler failed unexpectedly (the failure itself goes to the log). */
export function internalErrorResponse(): HttpResponse {
  return errorResponse(new SigcastError('internal', ERRORS.internal.message));
}
