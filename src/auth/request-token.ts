// Where a request carries its credential. HTTP: `Authorization: Bearer <token>`. WebSocket
// upgrades also take, for browsers (which cannot set headers on a WebSocket), a
// `sigcast.token.<token>` subprotocol offered beside the encoding's, or `?token=`. Pure.
import { SigcastError } from '../errors.js';

export const TOKEN_SUBPROTOCOL_PREFIX = 'sigcast.token.';

export interface CredentialSource {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query?: URLSearchParams;
}

/**
 * The credential a request presents, or undefined when it presents none. Precedence: the
 * Authorization header, then (WebSocket only) the subprotocol, then `?token=`. A malformed
 * Authorization header is refused rather than ignored.
 */
export function presentedToken(source: CredentialSource, websocket: boolean): string | undefined {
  const authorization = source.headers['authorization'];
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw new SigcastError('unauthorized', 'the Authorization header must be "Bearer <token>"');
    return match[1];
  }
  if (!websocket) return undefined;
  const offered = (source.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
  const fromProtocol = offered.find((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (fromProtocol !== undefined) return nonEmpty(fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length), 'the sigcast.token. subprotocol');
  const fromQuery = source.query?.get('token');
  return fromQuery === null || fromQuery === undefined ? undefined : nonEmpty(fromQuery, '?token=');
}

function nonEmpty(token: string, where: string): string {
  if (token === '') throw new SigcastError('unauthorized', `${where} carries no token`);
  return token;
}
