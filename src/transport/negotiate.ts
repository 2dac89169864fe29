import { ENCODING_NAMES, ENCODINGS, encodingOfSubprotocol, isEncoding, type Encoding } from '../protocol/encoding.js';
import { quoted } from '../util/bounded-text.js';

/** Subprotocols a client may offer instead of the `encoding` query parameter, from the registry. */
export const SUBPROTOCOLS: Readonly<Record<string, Encoding>> = Object.fromEntries(
  ENCODING_NAMES.map((name) => [ENCODINGS[name].subprotocol, name]),
);

export type Negotiated = { encoding: Encoding; protocol: string } | { error: string };

/**
 * Picks a connection's encoding from `?encoding=json|msgpack` (every value the query holds, so
 * that a repeated or empty parameter is refused rather than read one way or the other) and/or the
 * Sec-WebSocket-Protocol offer (pure). JSON when neither says anything.
 */
export function negotiateEncoding(queryEncodings: readonly string[], protocolHeader: string | undefined): Negotiated {
  const offered = (protocolHeader ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.length > 0);
  if (queryEncodings.length > 1) return { error: 'encoding may be given once' };
  let encoding: Encoding | undefined;
  const queryEncoding = queryEncodings[0];
  if (queryEncoding !== undefined) {
    if (!isEncoding(queryEncoding)) return { error: `encoding must be ${ENCODING_NAMES.join(' or ')}, not ${quoted(queryEncoding, 32)}` };
    encoding = queryEncoding;
  }
  if (offered.length === 0) return { encoding: encoding ?? 'json', protocol: '' };
  for (const protocol of offered) {
    const offeredEncoding = encodingOfSubprotocol(protocol);
    if (offeredEncoding !== undefined && (encoding === undefined || offeredEncoding === encoding)) return { encoding: offeredEncoding, protocol };
  }
  return { error: `no supported subprotocol offered; use one of ${Object.keys(SUBPROTOCOLS).join(', ')}` };
}
