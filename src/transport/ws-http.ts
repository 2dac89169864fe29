import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bodyTooLarge } from './http-answers.js';
import type { HttpRequest, HttpResponse } from '../protocol/http.js';

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

/** Reads the body, bounded: past `maxBytes` the answer is 413 and the rest is read and dropped. */
export function readHttpRequest(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const head = requestHead(req);
  const declared = Number(head.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false, response: bodyTooLarge(maxBytes) });
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
      if (size > maxBytes) return finish({ ok: false, response: bodyTooLarge(maxBytes) });
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, request: { ...head, body: Buffer.concat(chunks, size) } }));
    req.on('close', () => finish({ ok: false, aborted: true }));
  });
}

export function writeHttpResponse(res: ServerResponse, response: HttpResponse): void {
  if (res.destroyed || res.headersSent) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.byteLength) });
  res.end(body);
}

/** Answers a request that arrived as an upgrade (so outside node's response machinery) and closes it. */
export function writeRawHttpResponse(socket: Duplex, response: HttpResponse): void {
  if (socket.destroyed) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`];
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (name !== 'content-length' && name !== 'connection') lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${body.byteLength}`, 'connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}
