import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SigcastError } from '../errors.js';
import { errorResponse, type HttpRequest, type HttpResponse } from '../protocol/http.js';
import { bodyTooLarge } from './http-answers.js';
import { checkRequestHead, type HeadLimits } from './request-head.js';

/** Adapts node:http to the transport-neutral request/response of src/http (the twin of uws-http.ts). */

export type BodyResult = { ok: true; request: HttpRequest } | { ok: false; response: HttpResponse } | { ok: false; aborted: true };

/** Method, path, query and headers of a request (no body). */
export function requestHead(req: IncomingMessage): Omit<HttpRequest, 'body'> {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: mark === -1 ? url : url.slice(0, mark),
    query: new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)),
    headers,
    remoteAddress: req.socket.remoteAddress ?? '',
  };
}

/** request-head.ts's verdict on a head node:http parsed (it has refused malformed framing already). */
export function refusalOf(req: IncomingMessage, limits: HeadLimits): HttpResponse | undefined {
  const lines: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
  return checkRequestHead({ version: req.httpVersion, target: req.url ?? '/', headers: lines }, limits);
}

/** Reads the body, bounded: past `maxBytes` the answer is 413 and the connection closes after it. */
export function readHttpRequest(req: IncomingMessage, limits: HeadLimits): Promise<BodyResult> {
  const head = requestHead(req);
  const refusal = refusalOf(req, limits);
  if (refusal) {
    req.resume();
    return Promise.resolve({ ok: false, response: refusal });
  }
  if (head.method === 'GET' || head.method === 'HEAD') {
    req.resume();
    return Promise.resolve({ ok: true, request: { ...head, body: Buffer.alloc(0) } });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limits.maxBodyBytes) return finish({ ok: false, response: bodyTooLarge(limits.maxBodyBytes) });
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, request: { ...head, body: Buffer.concat(chunks, size) } }));
    req.on('close', () => finish({ ok: false, aborted: true }));
  });
}

/** Writes an answer; node:http leaves out the body of a HEAD answer itself, and closes after `connection: close`. */
export function writeHttpResponse(res: ServerResponse, response: HttpResponse): void {
  if (res.destroyed || res.headersSent) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.byteLength) });
  res.end(body);
}

/** Answers a request that arrived as an upgrade (so outside node's response machinery) and closes it. */
export function writeRawHttpResponse(socket: Duplex, response: HttpResponse): void {
  if (socket.destroyed || !socket.writable) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`];
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (name !== 'content-length' && name !== 'connection') lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${body.byteLength}`, 'connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}

/**
 * The answer to a request node:http could not parse (its `clientError`), in the catalog's words:
 * a head past its size limit is 414 when the request line alone is too long, else 431; a request
 * that took too long is 408; any other parse error (conflicting lengths, bare LF, a bad method,
 * not HTTP at all) is 400. Undefined when there is nothing to answer (the client went away).
 */
export function parseErrorAnswer(error: Error & { code?: string; rawPacket?: Buffer }, maxUrlBytes: number): HttpResponse | undefined {
  const close = { connection: 'close' };
  switch (error.code) {
    case 'ECONNRESET':
    case 'HPE_INVALID_EOF_STATE':
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errorResponse(new SigcastError('request_timeout'), close);
    case 'HPE_HEADER_OVERFLOW': {
      const packet = error.rawPacket ?? Buffer.alloc(0);
      const lineEnd = packet.indexOf('\r\n');
      // "GET " and " HTTP/1.1" around the target: a little slack past the limit.
      const longLine = lineEnd === -1 ? packet.length > maxUrlBytes : lineEnd > maxUrlBytes + 16;
      return longLine ? errorResponse(new SigcastError('uri_too_long'), close) : errorResponse(new SigcastError('headers_too_large'), close);
    }
    default:
      return errorResponse(new SigcastError('bad_request', 'the request is not valid HTTP/1.1'), close);
  }
}
