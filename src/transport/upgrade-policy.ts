// Whether a request to the WebSocket path is a handshake sigcast accepts, and with which
// encoding: the same answer on both transports (pure), given before either library sees it (and
// before the upgrade handler of transport.ts decides who may connect). uWS only hands
// its upgrade handler a request with a 24-character Sec-WebSocket-Key and never checks the version;
// ws accepts version 8 and answers in plain text: both are refused here, with catalog answers.
import { SigcastError, type ErrorCode } from '../errors.js';
import { errorResponse, type HttpResponse } from '../protocol/http.js';
import type { Encoding } from '../protocol/encoding.js';
import { negotiateEncoding } from './negotiate.js';

export interface Handshake {
  method: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Readonly<Record<string, string>>;
  query: URLSearchParams;
}

export type HandshakeVerdict = { encoding: Encoding; protocol: string } | { refused: HttpResponse };

/** The only version of RFC 6455, and the one a 426 names. */
export const WEBSOCKET_VERSION = '13';
/** Base64 of 16 bytes (RFC 6455 section 4.1). */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

export function checkHandshake(request: Handshake): HandshakeVerdict {
  if (request.method !== 'GET') return refuse('method_not_allowed', 'a WebSocket upgrade is a GET', { allow: 'GET' });
  const upgrade = (request.headers['upgrade'] ?? '').split(',').map((token) => token.trim().toLowerCase());
  if (!upgrade.includes('websocket')) return refuse('upgrade_required', undefined, { upgrade: 'websocket' });
  if (request.headers['sec-websocket-version'] !== WEBSOCKET_VERSION) {
    return refuse('upgrade_required', `Sec-WebSocket-Version must be ${WEBSOCKET_VERSION}`, { 'sec-websocket-version': WEBSOCKET_VERSION });
  }
  if (!KEY.test(request.headers['sec-websocket-key'] ?? '')) return refuse('bad_request', 'Sec-WebSocket-Key must be the base64 of 16 bytes');
  const negotiated = negotiateEncoding(request.query.getAll('encoding'), request.headers['sec-websocket-protocol']);
  if ('error' in negotiated) return refuse('bad_request', negotiated.error);
  return negotiated;
}

function refuse(code: ErrorCode, message?: string, headers: Record<string, string> = {}): HandshakeVerdict {
  return { refused: errorResponse(new SigcastError(code, message), { ...headers, connection: 'close' }) };
}
