// Adapts uWS's callback-style HTTP to the transport-neutral request/response of src/http, with
// the head checks of request-head.ts (uWS hands over heads node:http would refuse) and HEAD
// answers without a body.
import { STATUS_CODES } from 'node:http';
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse } from 'uWebSockets.js';
import type { HttpRequest, HttpResponse } from '../protocol/http.js';
import { bodyTooLarge } from './http-answers.js';
import { checkRequestHead, type HeadLimits } from './request-head.js';

const aborted = new WeakSet<UwsResponse>();
/** Responses to HEAD requests: their answers carry the head only. */
const heads = new WeakSet<UwsResponse>();

export type BodyResult = { ok: true; request: HttpRequest } | { ok: false; response: HttpResponse };

/**
 * Must be called in the handler itself, before anything asynchronous: uWS aborts the process on a
 * response left without an abort handler.
 */
export function watchAborted(res: UwsResponse): void {
  res.onAborted(() => aborted.add(res));
}

/** The client went away: `res` may not be used any more. */
export function isAborted(res: UwsResponse): boolean {
  return aborted.has(res);
}

export interface UwsHead {
  method: string;
  path: string;
  query: URLSearchParams;
  remoteAddress: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The refusal of request-head.ts, when the head is not acceptable. */
  refusal: HttpResponse | undefined;
}

/** Reads and checks a request's head; synchronously, as uWS invalidates `req` after this tick. */
export function readHead(res: UwsResponse, req: UwsRequest, limits: HeadLimits): UwsHead {
  const lines: Array<[string, string]> = [];
  req.forEach((key, value) => {
    lines.push([key, value]);
  });
  const path = req.getUrl();
  const rawQuery = req.getQuery() ?? '';
  const refusal = checkRequestHead({ version: '1.1', target: rawQuery === '' ? path : `${path}?${rawQuery}`, headers: lines }, limits);
  const headers: Record<string, string> = {};
  for (const [key, value] of lines) headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  return { method: req.getMethod().toUpperCase(), path, query: new URLSearchParams(rawQuery), remoteAddress: remoteAddressOf(res), headers, refusal };
}

/** Reads the head, then the body, bounded. */
export function readHttpBody(res: UwsResponse, req: UwsRequest, limits: HeadLimits): Promise<BodyResult> {
  watchAborted(res);
  const { method, path, query, headers, remoteAddress, refusal } = readHead(res, req, limits);
  if (method === 'HEAD') heads.add(res);
  if (refusal) return Promise.resolve({ ok: false, response: refusal });
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
      if (size > limits.maxBodyBytes) {
        done = true;
        return resolve({ ok: false, response: bodyTooLarge(limits.maxBodyBytes) });
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

/**
 * Writes an answer. One that closes the connection is written a turn later: uWS serves a request
 * pipelined behind an answer already written, but drops the connection when one arrives while an
 * answer is still pending, and nothing may be served after a refused head.
 */
export function writeHttpResponse(res: UwsResponse, response: HttpResponse): void {
  if (response.headers?.['connection'] === 'close') setImmediate(() => write(res, response, true));
  else write(res, response, false);
}

function write(res: UwsResponse, response: HttpResponse, close: boolean): void {
  if (aborted.has(res)) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.cork(() => {
    res.writeStatus(`${response.status} ${STATUS_CODES[response.status] ?? ''}`);
    // uWS writes Content-Length itself, and `Connection: close` when told to close.
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      if (name !== 'content-length' && name !== 'connection') res.writeHeader(name, value);
    }
    if (!heads.has(res)) res.end(body, close);
    else if (close) res.endWithoutBody(body.byteLength, true);
    else {
      // endWithoutBody(length) alone makes uWS wait for a body that never comes: the length goes in as a header.
      res.writeHeader('content-length', String(body.byteLength));
      res.endWithoutBody();
    }
  });
}
