// Hostile HTTP requests: framing, heads, methods, paths and query strings (finding 6 and the
// history half of finding 8). Bodies are in body-cases.ts.
import { httpRequest } from '../support/raw-http.js';
import { signalTo, type HttpOutcome, type HttpRow } from './cases.js';

export const MAX_BODY_BYTES = 65_536;
export const MAX_URL_BYTES = 4096;
export const MAX_HEADER_BYTES = 8192;

const HOST: [string, string] = ['Host', '127.0.0.1'];

export const get = (target: string, extra: Array<[string, string]> = [], method = 'GET', version = '1.1'): Buffer =>
  httpRequest(`${method} ${target} HTTP/${version}`, [HOST, ...extra]);

/** A POST /v1/signals with a correct Content-Length (unless `headers` says otherwise); `contentType` null sends none. */
export function post(body: string | Buffer, contentType: string | null = 'application/json', headers?: Array<[string, string]>): Buffer {
  const framing: Array<[string, string]> = headers ?? [['Content-Length', String(Buffer.byteLength(body))]];
  return httpRequest('POST /v1/signals HTTP/1.1', [HOST, ...(contentType ? [['Content-Type', contentType] as [string, string]] : []), ...framing], body);
}

const valid = (channel: string): string => JSON.stringify(signalTo(channel));
const chunked = (body: string): string => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;

const badRequestClosed: HttpOutcome = { status: 400, code: 'bad_request', closed: true };
/** uWS 20.30 drops these connections at once, without an answer, before or right after calling sigcast. */
const uwsDrops = (ws: HttpOutcome) => ({ uws: { noAnswer: 'closed' } as const, ws });
/** uWS 20.30 never calls sigcast for these and answers nothing until its own ~10 s timeout. */
const uwsHolds = (ws: HttpOutcome) => ({ uws: { noAnswer: 'held' } as const, ws });

const historyOf = (channel: string, query: string): Buffer => get(`/v1/channels/${channel}/history?${query}`);
const badQuery = (name: string, query: string): HttpRow => ({
  name: `history ${name} (${query})`,
  finding: 8,
  request: ({ channel }) => historyOf(channel, query),
  expect: { status: 400, code: 'bad_request' },
});

export const HTTP_ROWS: HttpRow[] = [
  // ---- HEAD, methods, Allow ----
  { name: 'HEAD /healthz has no body', finding: 6, head: true, request: () => get('/healthz', [], 'HEAD'), expect: { status: 200, noBody: true, headers: { 'content-length': '15' } } },
  { name: 'HEAD /readyz has no body', finding: 6, head: true, request: () => get('/readyz', [], 'HEAD'), expect: { status: 200, noBody: true } },
  { name: 'HEAD /metrics has no body', finding: 6, head: true, request: () => get('/metrics', [], 'HEAD'), expect: { status: 200, noBody: true } },
  { name: 'HEAD history has no body', finding: 6, head: true, request: ({ channel }) => get(`/v1/channels/${channel}/history`, [], 'HEAD'), expect: { status: 200, noBody: true } },
  { name: 'HEAD /v1/signals: 405 without a body', finding: 6, head: true, request: () => get('/v1/signals', [], 'HEAD'), expect: { status: 405, noBody: true, headers: { allow: 'POST' } } },
  { name: 'HEAD of an unknown path: 404 without a body', head: true, request: () => get('/nowhere', [], 'HEAD'), expect: { status: 404, noBody: true } },
  { name: 'GET /v1/signals: 405 with Allow', finding: 6, request: () => get('/v1/signals'), expect: { status: 405, code: 'method_not_allowed', headers: { allow: 'POST' } } },
  { name: 'DELETE /v1/signals: 405 with Allow', finding: 6, request: () => get('/v1/signals', [], 'DELETE'), expect: { status: 405, code: 'method_not_allowed', headers: { allow: 'POST' } } },
  { name: 'PUT history: 405 with Allow', finding: 6, request: ({ channel }) => get(`/v1/channels/${channel}/history`, [], 'PUT'), expect: { status: 405, code: 'method_not_allowed', headers: { allow: 'GET, HEAD' } } },
  { name: 'POST /metrics: 405 with Allow', finding: 6, request: () => get('/metrics', [], 'POST'), expect: { status: 405, code: 'method_not_allowed', headers: { allow: 'GET, HEAD' } } },
  { name: 'POST /healthz: 405 with Allow', finding: 6, request: () => get('/healthz', [], 'POST'), expect: { status: 405, code: 'method_not_allowed', headers: { allow: 'GET, HEAD' } } },
  { name: 'OPTIONS /readyz: 204 with Allow', request: () => get('/readyz', [], 'OPTIONS'), expect: { status: 204, headers: { allow: /GET/ } } },
  { name: 'unknown path: 404', request: () => get('/v2/signals'), expect: { status: 404, code: 'not_found' } },
  { name: 'a 3 KiB unknown path is not echoed whole', request: () => get(`/${'p'.repeat(3000)}`), expect: { status: 404, code: 'not_found', maxBodyBytes: 512 } },
  { name: 'no uWebSockets banner header', finding: 6, request: () => get('/healthz'), expect: { status: 200, headers: { uwebsockets: null } } },

  // ---- paths ----
  { name: 'history: lone % in the channel', finding: 6, request: () => get('/v1/channels/%/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: truncated escape %E0%A4%A', finding: 6, request: () => get('/v1/channels/%E0%A4%A/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: %FF is not UTF-8', finding: 6, request: () => get('/v1/channels/%FF/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: %zz is not an escape', finding: 6, request: () => get('/v1/channels/a%zz/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: an encoded slash', request: () => get('/v1/channels/a%2Fb/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: an encoded brace', request: () => get('/v1/channels/%7Bx%7D/history'), expect: { status: 400, code: 'invalid_channel' } },
  { name: 'history: a 65-char channel', request: () => get(`/v1/channels/${'c'.repeat(65)}/history`), expect: { status: 400, code: 'invalid_channel', maxBodyBytes: 512 } },
  { name: 'history: an encoded valid channel is read', request: ({ channel }) => get(`/v1/channels/${encodeURIComponent(channel).replace('.', '%2E')}/history`), expect: { status: 200 } },

  // ---- history query strings ----
  badQuery('hex since', 'since=0x10'),
  badQuery('exponent since', 'since=1e3'),
  badQuery('empty since', 'since='),
  badQuery('empty last', 'last='),
  badQuery('negative since', 'since=-1'),
  badQuery('fractional since', 'since=1.5'),
  badQuery('signed since', 'since=%2B1'),
  badQuery('space in since', 'since=%201'),
  badQuery('since past 2^53', 'since=99999999999999999999'),
  badQuery('Infinity', 'since=Infinity'),
  badQuery('NaN', 'last=NaN'),
  badQuery('last over 1000', 'last=1001'),
  badQuery('last not a number', 'last=ten'),
  badQuery('repeated since', 'since=1&since=2'),
  badQuery('repeated last', 'last=1&last=1'),
  { name: 'history: last=0 reads nothing', request: ({ channel }) => historyOf(channel, 'last=0'), expect: { status: 200 } },
  { name: 'history: since=007 is 7', request: ({ channel }) => historyOf(channel, 'since=007'), expect: { status: 200 } },

  // ---- HTTP versions and heads uWS never hands over ----
  { name: 'HTTP/1.0 GET /healthz', finding: 6, request: () => get('/healthz', [], 'GET', '1.0'), expect: uwsHolds({ status: 200, closed: true }) },
  { name: 'HTTP/1.0 without Host', finding: 6, request: () => Buffer.from('GET /readyz HTTP/1.0\r\n\r\n'), expect: uwsHolds({ status: 200, closed: true }) },
  { name: 'HTTP/1.1 without Host', finding: 6, request: () => Buffer.from('GET /healthz HTTP/1.1\r\n\r\n'), expect: uwsHolds(badRequestClosed) },
  { name: 'HTTP/1.1 with two Host headers', request: () => get('/healthz', [['Host', 'evil.example']]), expect: badRequestClosed },
  { name: 'HTTP/2.0 request line', request: () => get('/healthz', [], 'GET', '2.0'), expect: uwsHolds({ status: 505, code: 'http_version_not_supported', closed: true }) },
  { name: 'HTTP/1.2 request line', request: () => get('/healthz', [], 'GET', '1.2'), expect: uwsHolds(badRequestClosed) },
  { name: 'not HTTP at all', request: () => Buffer.from('HELLO\r\n\r\n'), expect: uwsHolds(badRequestClosed) },
  { name: 'a TLS ClientHello', finding: 6, request: () => Buffer.from('16030100a5010000a10303', 'hex'), expect: uwsHolds(badRequestClosed) },
  { name: 'bare LF line ends', request: () => Buffer.from('GET /healthz HTTP/1.1\nHost: a\n\n'), expect: uwsHolds(badRequestClosed) },
  { name: 'a space in a header name', request: () => get('/healthz', [['X Y', '1']]), expect: uwsHolds(badRequestClosed) },
  { name: 'an obs-fold header line', request: () => Buffer.from('GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  2\r\n\r\n'), expect: uwsHolds(badRequestClosed) },
  { name: 'NUL in the path', request: () => get('/heal\u0000thz'), expect: uwsHolds(badRequestClosed) },
  { name: 'a lower-case method', request: () => get('/healthz', [], 'get'), expect: uwsDrops(badRequestClosed) },
  { name: 'CONNECT', request: () => get('127.0.0.1:443', [], 'CONNECT'), expect: uwsHolds({ status: 405, code: 'method_not_allowed', closed: true }) },
  { name: '49 header fields', request: () => get('/healthz', Array.from({ length: 48 }, (_, i): [string, string] => [`X-H${i}`, '1'])), expect: uwsHolds({ status: 431, code: 'headers_too_large', closed: true }) },
  { name: '48 header fields are fine', request: () => get('/healthz', Array.from({ length: 47 }, (_, i): [string, string] => [`X-H${i}`, '1'])), expect: { status: 200 } },

  // ---- URL and header sizes ----
  { name: 'URL over MAX_URL_BYTES: 414', finding: 6, request: () => get(`/healthz?pad=${'a'.repeat(MAX_URL_BYTES)}`), expect: { status: 414, code: 'uri_too_long', closed: true, maxBodyBytes: 512 } },
  { name: 'URL of 40 KB: 414', finding: 6, request: () => get(`/healthz?pad=${'a'.repeat(40_000)}`), expect: { status: 414, code: 'uri_too_long', closed: true, maxBodyBytes: 512 } },
  { name: 'URL just under MAX_URL_BYTES', request: () => get(`/healthz?pad=${'a'.repeat(MAX_URL_BYTES - 400)}`), expect: { status: 200 } },
  { name: 'one header value over MAX_HEADER_BYTES: 431', finding: 6, request: () => get('/healthz', [['X-Big', 'v'.repeat(MAX_HEADER_BYTES)]]), expect: { status: 431, code: 'headers_too_large', closed: true } },
  { name: 'a 48 KB header value: 431', finding: 6, request: () => get('/healthz', [['X-Big', 'v'.repeat(48_000)]]), expect: { status: 431, code: 'headers_too_large', closed: true } },
  { name: 'many headers over MAX_HEADER_BYTES together: 431', finding: 6, request: () => get('/healthz', Array.from({ length: 40 }, (_, i): [string, string] => [`X-H${i}`, 'v'.repeat(220)])), expect: { status: 431, code: 'headers_too_large', closed: true } },
  {
    name: 'a 5 KB head split across TCP reads',
    request: () => Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: '),
    more: () => [Buffer.from('p'.repeat(5000)), Buffer.from('\r\n\r\n')],
    expect: { uws: { noAnswer: 'closed' }, ws: { status: 200 } },
  },

  // ---- Content-Length and Transfer-Encoding ----
  { name: 'two different Content-Lengths (longer first)', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', String(valid(channel).length)], ['Content-Length', '5']]), expect: badRequestClosed },
  { name: 'two different Content-Lengths (shorter first)', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', '5'], ['Content-Length', String(valid(channel).length)]]), expect: badRequestClosed },
  { name: 'two equal Content-Lengths', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', String(valid(channel).length)], ['Content-Length', String(valid(channel).length)]]), expect: badRequestClosed },
  { name: 'a Content-Length list', request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', `${valid(channel).length}, ${valid(channel).length}`]]), expect: uwsDrops(badRequestClosed) },
  { name: 'Content-Length and Transfer-Encoding', finding: 6, request: ({ channel }) => post(chunked(valid(channel)), 'application/json', [['Content-Length', String(valid(channel).length)], ['Transfer-Encoding', 'chunked']]), expect: uwsDrops(badRequestClosed) },
  { name: 'Transfer-Encoding and Content-Length', finding: 6, request: ({ channel }) => post(chunked(valid(channel)), 'application/json', [['Transfer-Encoding', 'chunked'], ['Content-Length', String(valid(channel).length)]]), expect: uwsDrops(badRequestClosed) },
  { name: 'Transfer-Encoding gzip', request: ({ channel }) => post(valid(channel), 'application/json', [['Transfer-Encoding', 'gzip']]), expect: uwsDrops(badRequestClosed) },
  { name: 'chunked body alone is read', request: ({ channel }) => post(chunked(valid(channel)), 'application/json', [['Transfer-Encoding', 'chunked']]), expect: { status: 200, stored: 1 } },
  { name: 'Content-Length abc', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', 'abc']]), expect: uwsDrops(badRequestClosed) },
  { name: 'Content-Length -1', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', '-1']]), expect: uwsDrops(badRequestClosed) },
  { name: 'Content-Length +N', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', `+${valid(channel).length}`]]), expect: uwsDrops(badRequestClosed) },
  { name: 'Content-Length 0x10', finding: 6, request: ({ channel }) => post(valid(channel), 'application/json', [['Content-Length', '0x10']]), expect: uwsDrops(badRequestClosed) },
  { name: 'Content-Length empty', finding: 6, request: () => post('', 'application/json', [['Content-Length', '']]), expect: badRequestClosed },
  { name: 'Content-Length 2^31', finding: 6, request: () => post('{}', 'application/json', [['Content-Length', String(2 ** 31)]]), expect: uwsDrops({ status: 413, code: 'body_too_large', closed: true }) },
  { name: 'Content-Length 2^53', finding: 6, request: () => post('{}', 'application/json', [['Content-Length', String(2 ** 53)]]), expect: uwsDrops({ status: 413, code: 'body_too_large', closed: true }) },
  { name: 'Content-Length 999,999,999: 413 before the body', finding: 6, request: () => post('{}', 'application/json', [['Content-Length', '999999999']]), expect: { status: 413, code: 'body_too_large', closed: true } },
  { name: 'Content-Length one past MAX_BODY_BYTES', finding: 6, request: () => post('', 'application/json', [['Content-Length', String(MAX_BODY_BYTES + 1)]]), expect: { status: 413, code: 'body_too_large', closed: true } },
  {
    name: '413 then a request hidden in the body: one answer, closed',
    finding: 6,
    request: () => post(get('/healthz'), 'application/json', [['Content-Length', String(MAX_BODY_BYTES * 4)]]),
    expect: { status: 413, code: 'body_too_large', closed: true, answers: 1 },
  },
  {
    name: 'a chunked body over MAX_BODY_BYTES: 413',
    request: () => post(chunked('x'.repeat(MAX_BODY_BYTES + 10)), 'application/json', [['Transfer-Encoding', 'chunked']]),
    expect: { status: 413, code: 'body_too_large', closed: true },
  },
  { name: 'POST without a length has no body', request: () => post('', 'application/json', []), expect: { status: 400, code: 'bad_json' } },
  { name: 'pipelined GETs', request: () => Buffer.concat([get('/readyz'), get('/readyz')]), expect: { uws: { noAnswer: 'closed' }, ws: { status: 200, answers: 2 } } },
  {
    name: 'a request pipelined after a conflicting length is never served',
    finding: 6,
    request: ({ channel }) => Buffer.concat([post(valid(channel), 'application/json', [['Content-Length', String(valid(channel).length)], ['Content-Length', '3']]), get('/healthz')]),
    expect: uwsDrops({ ...badRequestClosed, answers: 1 }),
  },
];
