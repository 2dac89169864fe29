// HTTP answers the transports give on their own, before a request reaches the routes. Each closes
// the connection: what the client sends next on it cannot be trusted or is not wanted.
import { SigcastError } from '../errors.js';
import { errorResponse, type HttpResponse } from '../protocol/http.js';

/** A body over MAX_BODY_BYTES: refused without reading the rest. */
export function bodyTooLarge(maxBytes: number): HttpResponse {
  return errorResponse(new SigcastError('body_too_large', `body is larger than ${maxBytes} bytes`), { connection: 'close' });
}

/** An upgrade while the node shuts down: 503, reconnect to another node. */
export function shuttingDownUpgrade(): HttpResponse {
  return errorResponse(new SigcastError('shutting_down'), { connection: 'close' });
}
