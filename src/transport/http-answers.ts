import { SigcastError, errorBody } from '../errors.js';
import type { Negotiated } from './negotiate.js';
import type { HttpResponse } from './transport.js';

/** HTTP answers the transports give on their own, before a request reaches the routes. */

const JSON_TYPE = 'application/json';

/** A body over MAX_BODY_BYTES: refused without reading the rest (hence `connection: close`). */
export function bodyTooLarge(maxBytes: number): HttpResponse {
  const error = new SigcastError('body_too_large', `body is larger than ${maxBytes} bytes`);
  return { status: error.status, headers: { 'content-type': JSON_TYPE, connection: 'close' }, body: JSON.stringify(errorBody(error)) };
}

/** An upgrade that cannot go on: a bad negotiation (400) or shutdown (503). */
export function refusedUpgrade(negotiated: Negotiated, closing: boolean): HttpResponse {
  const error = closing
    ? new SigcastError('shutting_down')
    : new SigcastError('bad_request', 'error' in negotiated ? negotiated.error : 'bad request');
  const headers: Record<string, string> = { 'content-type': JSON_TYPE };
  if (closing) headers['retry-after'] = '1';
  return { status: error.status, headers, body: JSON.stringify(errorBody(error)) };
}
