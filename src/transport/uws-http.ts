import { STATUS_CODES } from 'node:http';
import { bodyTooLarge } from './http-answers.js';
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse } from 'uWebSockets.js';
import type { HttpRequest, HttpResponse } from '../protocol/http.js';

/** Adapts uWS's callback-style HTTP to the transport-neutral request/response of src/http. */

const aborted = new WeakSet<UwsResponse>();

export type BodyResult = { ok: true; request: HttpRequest } | { ok: false; response: HttpResponse };

/** Reads headers synchronously (uWS invalidates `req` after this tick), then the body, bounded. */
export function readHttpBody(res: UwsResponse, req: UwsRequest, maxBytes: number): Promise<BodyResult> {
  res.onAborted(() => aborted.add(res));
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    headers[key] = value;
  });
  const method = req.getMethod().toUpperCase();
  const path = req.getUrl();
  const query = new URLSearchParams(req.getQuery() ?? '');
  const remoteAddress = remoteAddressOf(res);
  const declared = Number(headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.resolve({ ok: false, response: bodyTooLarge(maxBytes) });
  if (method === 'GET' || method === 'HEAD') {
    return Promise.resolve({ ok: true, request: { method, path, query, headers, body: Buffer.alloc(0), remoteAddress } });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        return resolve({ ok: false, response: bodyTooLarge(maxBytes) });
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        done = true;
        resolve({ ok: true, request: { method, path, query, headers, body: Buffer.concat(chunks, size), remoteAddress } });
      }
    });
  });
}

/** The peer's address as text (uWS writes IPv4 peers in their plain dotted form). */
export function remoteAddressOf(res: UwsResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString();
}

export function writeHttpResponse(res: UwsResponse, response: HttpResponse): void {
  if (aborted.has(res)) return;
  res.cork(() => {
    res.writeStatus(`${response.status} ${STATUS_CODES[response.status] ?? ''}`);
    for (const [name, value] of Object.entries(response.headers ?? {})) res.writeHeader(name, value);
    res.end(response.body);
  });
}
