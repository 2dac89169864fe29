import type { Encoding } from '../protocol/codec.js';

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

