// Checks on a request's head that both transports make before any body is read (pure): the
// version, the size of the target and of the headers, Host, and the body's framing. node:http
// refuses malformed framing itself (ws-transport.ts turns its parse errors into these same
// answers); uWS hands over conflicting or non-numeric Content-Lengths, a Content-Length with a
// Transfer-Encoding, two Hosts, and heads of any size that arrive in one read. Every refusal
// closes the connection: after a head that cannot be trusted, neither can the bytes after it.
import { SigcastError, type ErrorCode } from '../errors.js';
import { errorResponse, type HttpResponse } from '../protocol/http.js';
import { bodyTooLarge } from './http-answers.js';

export interface RequestHead {
  /** "1.1" or "1.0"; uWS only ever hands over HTTP/1.1. */
  version: string;
  /** The request target as sent: path and query. */
  target: string;
  /** Every header line in order, names lower-cased, repeats kept. */
  headers: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface HeadLimits {
  maxUrlBytes: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

/** Header fields a request may have: uWS 20.30's own limit, which the ws transport applies too. */
export const MAX_HEADER_FIELDS = 48;

/** Bytes a header line takes on the wire: name, ": ", value, CRLF. */
const lineBytes = (name: string, value: string): number => name.length + value.length + 4;

/** The answer that refuses this head, or undefined when its body may be read. */
export function checkRequestHead(head: RequestHead, limits: HeadLimits): HttpResponse | undefined {
  if (head.version !== '1.1' && head.version !== '1.0') return refuse('http_version_not_supported');
  if (head.target.length > limits.maxUrlBytes) return refuse('uri_too_long', `the request target is longer than ${limits.maxUrlBytes} bytes`);
  if (head.headers.length > MAX_HEADER_FIELDS) return refuse('headers_too_large', `more than ${MAX_HEADER_FIELDS} header fields`);
  let headerBytes = 0;
  for (const [name, value] of head.headers) headerBytes += lineBytes(name, value);
  if (headerBytes > limits.maxHeaderBytes) return refuse('headers_too_large', `the headers are larger than ${limits.maxHeaderBytes} bytes`);

  const values = (wanted: string): string[] => head.headers.filter(([name]) => name === wanted).map(([, value]) => value);
  const hosts = values('host');
  if (hosts.length > 1 || (hosts.length === 0 && head.version === '1.1')) return refuse('bad_request', 'an HTTP/1.1 request needs exactly one Host header');
  const lengths = values('content-length');
  const encodings = values('transfer-encoding');
  if (lengths.length > 1) return refuse('bad_request', 'more than one Content-Length');
  if (lengths.length === 1 && encodings.length > 0) return refuse('bad_request', 'both Content-Length and Transfer-Encoding');
  if (encodings.length > 0 && encodings.join(',').trim().toLowerCase() !== 'chunked') return refuse('bad_request', 'the only Transfer-Encoding served is chunked');
  const length = lengths[0];
  if (length !== undefined) {
    if (!/^[0-9]+$/.test(length.trim())) return refuse('bad_request', 'Content-Length must be a decimal number');
    if (Number(length) > limits.maxBodyBytes) return bodyTooLarge(limits.maxBodyBytes);
  }
  return undefined;
}

function refuse(code: ErrorCode, message?: string): HttpResponse {
  return errorResponse(new SigcastError(code, message), { connection: 'close' });
}
