// HTTP answers the transports give on their own, before a request reaches the routes.
import { SigcastError } from '../errors.js';
import { errorResponse, type HttpResponse } from '../protocol/http.js';
import type { Negotiated } from './negotiate.js';

/** A body over MAX_BODY_BYTES: refused without reading the rest (hence `connection: close`). */
export function bodyTooLarge(maxBytes: number): HttpResponse {
  return errorResponse(new SigcastError('body_too_large', `body is larger than ${maxBytes} bytes`), { connection: 'close' });
}

/** An upgrade that cannot go on: a bad negotiation (400) or shutdown (503). */
export function refusedUpgrade(negotiated: Negotiated, closing: boolean): HttpResponse {
  const error = closing
    ? new SigcastError('shutting_down')
    : new SigcastError('bad_request', 'error' in negotiated ? negotiated.error : 'bad request');
  return errorResponse(error);
}
