import { SigcastError, errorBody } from '../errors.js';
import type { Encoding } from '../protocol/codec.js';
import type { HttpResponse } from './transport.js';

/** Subprotocols a client may offer instead of the `encoding` query parameter. */
export const SUBPROTOCOLS: Record<string, Encoding> = {
  'sigcast.v1.json': 'json',
  'sigcast.v1.msgpack': 'msgpack',
};

export type Negotiated = { encoding: Encoding; protocol: string } | { error: string };

/**
 * Picks a connection's encoding from `?encoding=json|msgpack` and/or the Sec-WebSocket-Protocol
 * offer (pure). JSON when neither says anything.
 */
export function negotiateEncoding(queryEncoding: string | undefined, protocolHeader: string | undefined): Negotiated {
  const offered = (protocolHeader ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.length > 0);
  let encoding: Encoding | undefined;
  if (queryEncoding) {
    if (queryEncoding !== 'json' && queryEncoding !== 'msgpack') return { error: `encoding must be json or msgpack, not ${JSON.stringify(queryEncoding)}` };
    encoding = queryEncoding;
  }
  if (offered.length === 0) return { encoding: encoding ?? 'json', protocol: '' };
  const protocol = offered.find((candidate) => SUBPROTOCOLS[candidate] !== undefined && (encoding === undefined || SUBPROTOCOLS[candidate] === encoding));
  if (!protocol) return { error: `no supported subprotocol offered; use one of ${Object.keys(SUBPROTOCOLS).join(', ')}` };
  return { encoding: SUBPROTOCOLS[protocol]!, protocol };
}

/** The HTTP answer to an upgrade that cannot go on: a bad negotiation (400) or shutdown (503). */
export function refusedUpgrade(negotiated: Negotiated, closing: boolean): HttpResponse {
  const error = closing
    ? new SigcastError('shutting_down')
    : new SigcastError('bad_request', 'error' in negotiated ? negotiated.error : 'bad request');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (closing) headers['retry-after'] = '1';
  return { status: error.status, headers, body: JSON.stringify(errorBody(error)) };
}
