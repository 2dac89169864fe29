// The auth table: each row states its input (credential, headers, body or frame) and what the
// node must answer (HTTP status and error code, or the upgrade's answer, or the frame's). The
// runner (auth.test.ts) runs every row on both transports and, for WebSocket rows, both
// encodings; after each row it proves that nothing was stored for a refused request and that
// the node still serves a valid publish and subscribe.
import type { ErrorCode } from '../../src/errors.js';
import { AUDIENCE, confusedToken, ISSUER, signToken, unsecuredToken, type AuthKeys, type TokenOptions } from '../support/auth-keys.js';

/** API keys of the suite's node, with their scopes. */
export const API_KEY_SCOPES = {
  'bot-7': 'publish:BTC*',
  reader: 'subscribe:*',
  mallory: 'publish:*',
  admin: 'publish:* subscribe:*',
} as const;
export type KeyName = keyof typeof API_KEY_SCOPES;

export const ALLOWED_ORIGIN = 'https://app.sigcast.test';
export const METRICS_TOKEN = 'metrics-token-0123456789';

/** How a row gets its credential (undefined: it presents none). */
export type Credential = (keys: AuthKeys) => Promise<string | undefined>;
export const none: Credential = async () => undefined;
export const key = (name: KeyName): Credential => async (keys) => keys.apiKeys[name];
export const jwt = (options: TokenOptions = {}): Credential => (keys) => signToken(keys, options);
export const raw = (token: string): Credential => async () => token;
const alice = { sub: 'alice', scope: 'publish:ETH* subscribe:ETH*' };

/** Channel prefixes a row touches; the runner makes them unique per row (`BTC.h7`). */
export type Prefix = 'BTC' | 'ETH' | 'SOL';

export interface HttpRow {
  name: string;
  method?: 'GET' | 'POST' | 'OPTIONS';
  /** Path for the row's first channel; default POST /v1/signals. */
  path?: (channel: string) => string;
  token: Credential;
  headers?: Record<string, string>;
  touches?: Prefix[];
  /** Body for the row's channels; default one BUY signal to the first. */
  body?: (channels: string[]) => unknown;
  status: number;
  code?: ErrorCode;
  /** The error answer names these of the row's channels (by index); `error.channel` is the first. */
  denied?: number[];
  /** Expected answer headers (lower-case names). */
  answerHeaders?: Record<string, string | RegExp>;
}

export const signalTo = (...channels: string[]) => ({ symbol: 'BTCUSDT', side: 'BUY', strength: 0.5, channels });
const history = (channel: string) => `/v1/channels/${channel}/history`;

export const HTTP_ROWS: HttpRow[] = [
  { name: 'publish without a credential', token: none, status: 401, code: 'unauthorized', answerHeaders: { 'www-authenticate': /^Bearer/ } },
  { name: 'publish with a Basic Authorization header', token: none, headers: { authorization: 'Basic Ym90Ojc=' }, status: 401, code: 'unauthorized' },
  { name: 'publish with "Bearer" and no token', token: none, headers: { authorization: 'Bearer ' }, status: 401, code: 'unauthorized' },
  { name: 'publish with a garbage token', token: raw('hello'), status: 401, code: 'unauthorized' },
  { name: 'publish with an API key not in the file', token: raw('sck_W0xnVcJeU5o9wq0e3qj2r1Nf7a7Xj0mDlqY6yN4tHk8'), status: 401, code: 'unauthorized' },
  { name: 'publish with a malformed JWT', token: raw('eyJhbGciOiJIUzI1NiJ9.e30.!!!'), status: 401, code: 'unauthorized' },
  { name: 'publish with an expired JWT', token: jwt({ ...alice, scope: 'publish:*', expiresIn: -10 }), status: 401, code: 'token_expired' },
  { name: 'publish with a not-yet-valid JWT (nbf)', token: jwt({ scope: 'publish:*', notBeforeIn: 600 }), status: 401, code: 'unauthorized' },
  { name: 'publish with a JWT of a wrong signature', token: async (keys) => signToken(keys, { alg: 'RS256', scope: 'publish:*', key: keys.stranger.privateKey }), status: 401, code: 'unauthorized' },
  { name: 'publish with a JWT of a wrong issuer', token: jwt({ scope: 'publish:*', issuer: 'https://evil.test' }), status: 401, code: 'unauthorized' },
  { name: 'publish with a JWT of a wrong audience', token: jwt({ scope: 'publish:*', audience: 'someone-else' }), status: 401, code: 'unauthorized' },
  { name: 'publish with a JWT without exp', token: jwt({ scope: 'publish:*', expiresIn: null }), status: 401, code: 'unauthorized' },
  {
    name: 'publish with an alg:none JWT',
    token: async () => unsecuredToken({ sub: 'mallory', scope: 'publish:*', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 }),
    status: 401,
    code: 'unauthorized',
  },
  { name: 'publish with an algorithm-confused JWT (HS256 keyed with the public key)', token: (keys) => confusedToken(keys, { scope: 'publish:*' }), status: 401, code: 'unauthorized' },
  { name: 'publish by a subscribe-only principal', token: key('reader'), status: 403, code: 'forbidden', denied: [0] },
  { name: 'publish outside the patterns (bot-7 to ETH)', token: key('bot-7'), touches: ['ETH'], status: 403, code: 'forbidden', denied: [0] },
  { name: 'a mixed batch: one signal in scope, one not', token: key('bot-7'), touches: ['BTC', 'ETH'], body: ([a, b]) => [signalTo(a!), signalTo(b!)], status: 403, code: 'forbidden', denied: [1] },
  { name: 'one signal to two channels, one out of scope', token: key('bot-7'), touches: ['BTC', 'SOL'], body: ([a, b]) => signalTo(a!, b!), status: 403, code: 'forbidden', denied: [1] },
  { name: 'publish in scope with an API key', token: key('bot-7'), status: 200 },
  { name: 'publish in scope with an HS256 JWT', token: jwt(alice), touches: ['ETH'], status: 200 },
  { name: 'publish in scope with an RS256 JWT', token: jwt({ ...alice, alg: 'RS256' }), touches: ['ETH'], status: 200 },
  { name: 'publish in scope with an ES256 JWT', token: jwt({ ...alice, alg: 'ES256' }), touches: ['ETH'], status: 200 },
  { name: 'publish in scope with an EdDSA JWT', token: jwt({ ...alice, alg: 'EdDSA' }), touches: ['ETH'], status: 200 },
  { name: 'publish from a foreign Origin', token: key('bot-7'), headers: { origin: 'https://evil.example' }, status: 403, code: 'origin_not_allowed' },
  { name: 'publish with a rebinding Host', token: key('bot-7'), headers: { host: 'evil.example:8080' }, status: 403, code: 'host_not_allowed' },
  { name: 'publish from an Origin of a rebinding page (same-host but not loopback)', token: key('bot-7'), headers: { host: 'evil.example', origin: 'http://evil.example' }, status: 403, code: 'host_not_allowed' },
  {
    name: 'publish from ALLOWED_ORIGINS gets CORS headers',
    token: key('bot-7'),
    headers: { origin: ALLOWED_ORIGIN },
    status: 200,
    answerHeaders: { 'access-control-allow-origin': ALLOWED_ORIGIN, vary: 'Origin' },
  },
  {
    name: 'CORS preflight from ALLOWED_ORIGINS',
    method: 'OPTIONS',
    token: none,
    headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    status: 204,
    answerHeaders: { 'access-control-allow-origin': ALLOWED_ORIGIN, 'access-control-allow-headers': /authorization/, 'access-control-allow-methods': /POST/ },
  },
  { name: 'CORS preflight from a foreign Origin', method: 'OPTIONS', token: none, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, status: 403, code: 'origin_not_allowed' },
  { name: 'history without a credential', method: 'GET', path: history, token: none, status: 401, code: 'unauthorized' },
  { name: 'history by a publish-only principal', method: 'GET', path: history, token: key('bot-7'), status: 403, code: 'forbidden', denied: [0] },
  { name: 'history outside the subscribe patterns (JWT for ETH* reading BTC)', method: 'GET', path: history, token: jwt(alice), status: 403, code: 'forbidden', denied: [0] },
  { name: 'history by a subscriber', method: 'GET', path: history, token: key('reader'), status: 200 },
  { name: '/metrics without METRICS_TOKEN', method: 'GET', path: () => '/metrics', token: key('admin'), status: 401, code: 'unauthorized' },
  { name: '/metrics with METRICS_TOKEN', method: 'GET', path: () => '/metrics', token: raw(METRICS_TOKEN), status: 200 },
  { name: '/healthz needs no credential', method: 'GET', path: () => '/healthz', token: none, status: 200 },
];

export interface UpgradeRow {
  name: string;
  token: Credential;
  /** Where the token goes: Authorization header (default), `sigcast.token.` subprotocol, or `?token=`. */
  via?: 'header' | 'subprotocol' | 'query';
  headers?: Record<string, string>;
  /** Refused with this status and code; absent: the socket opens as `principal`. */
  status?: number;
  code?: ErrorCode;
  principal?: string;
}

export const UPGRADE_ROWS: UpgradeRow[] = [
  { name: 'upgrade without a credential', token: none, status: 401, code: 'unauthorized' },
  { name: 'upgrade with an unknown API key in the subprotocol', token: raw('sck_nope'), via: 'subprotocol', status: 401, code: 'unauthorized' },
  { name: 'upgrade with an expired JWT in ?token=', token: jwt({ scope: 'subscribe:*', expiresIn: -10 }), via: 'query', status: 401, code: 'token_expired' },
  { name: 'upgrade with an alg:none JWT', token: async () => unsecuredToken({ sub: 'm', scope: 'subscribe:*', exp: Math.floor(Date.now() / 1000) + 600 }), status: 401, code: 'unauthorized' },
  { name: 'upgrade from a foreign Origin', token: key('reader'), headers: { origin: 'https://evil.example' }, status: 403, code: 'origin_not_allowed' },
  { name: 'upgrade with a rebinding Host', token: key('reader'), headers: { host: 'evil.example' }, status: 403, code: 'host_not_allowed' },
  { name: 'upgrade with an API key in the Authorization header', token: key('reader'), principal: 'key:reader' },
  { name: 'upgrade with a JWT in the sigcast.token. subprotocol', token: jwt(alice), via: 'subprotocol', principal: 'jwt:alice' },
  { name: 'upgrade with a JWT in ?token=', token: jwt({ ...alice, alg: 'EdDSA' }), via: 'query', principal: 'jwt:alice' },
  { name: 'upgrade from ALLOWED_ORIGINS', token: key('reader'), headers: { origin: ALLOWED_ORIGIN }, principal: 'key:reader' },
  { name: 'upgrade from a same-host page (sigcast\'s own dashboard)', token: key('reader'), headers: { origin: 'http://127.0.0.1:{port}' }, principal: 'key:reader' },
];

export interface FrameRow {
  name: string;
  token: Credential;
  touches?: Prefix[];
  frame: (channels: string[]) => Record<string, unknown>;
  /** An error frame with this code (its `channel` the row's channel of index `denied`), or the answer type. */
  code?: ErrorCode;
  denied?: number;
  answer?: 'ack' | 'live';
}

export const FRAME_ROWS: FrameRow[] = [
  { name: 'subscribe by a publish-only principal', token: key('bot-7'), frame: ([c]) => ({ op: 'subscribe', channel: c }), code: 'forbidden', denied: 0 },
  { name: 'subscribe outside the patterns', token: jwt(alice), frame: ([c]) => ({ op: 'subscribe', channel: c }), code: 'forbidden', denied: 0 },
  { name: 'subscribe in scope', token: key('reader'), frame: ([c]) => ({ op: 'subscribe', channel: c, last: 10 }), answer: 'live' },
  { name: 'publish by a subscribe-only principal', token: key('reader'), frame: ([c]) => ({ op: 'publish', id: 'p', signals: [signalTo(c!)] }), code: 'forbidden', denied: 0 },
  { name: 'publish outside the patterns', token: key('bot-7'), touches: ['ETH'], frame: ([c]) => ({ op: 'publish', id: 'p', signals: signalTo(c!) }), code: 'forbidden', denied: 0 },
  {
    name: 'a mixed batch over WebSocket',
    token: key('bot-7'),
    touches: ['BTC', 'ETH'],
    frame: ([a, b]) => ({ op: 'publish', id: 'p', signals: [signalTo(a!), signalTo(b!)] }),
    code: 'forbidden',
    denied: 1,
  },
  { name: 'publish in scope', token: key('bot-7'), frame: ([c]) => ({ op: 'publish', id: 'p', signals: [signalTo(c!)] }), answer: 'ack' },
  { name: 'auth frame with a token of a wrong signature', token: key('reader'), frame: () => ({ op: 'auth', id: 'p', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' }), code: 'unauthorized' },
];
