// HTTP over a bare TCP socket, for tests that must send what no HTTP client sends (conflicting
// lengths, HTTP/1.0, bare LF, huge heads, pipelining) and see exactly what comes back: every
// answer on the connection, byte for byte, and whether the server closed it.
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
}

export interface RawExchange {
  answers: RawAnswer[];
  /** The server ended the connection (FIN or RST) before we gave up waiting. */
  closed: boolean;
  /** Bytes after the last complete answer (an answer cut short, or garbage). */
  trailing: Buffer;
  elapsedMs: number;
}

export interface RawOptions {
  /** Resolve once this many answers arrived (and, with `awaitClose`, the connection closed). Default 1. */
  answers?: number;
  /** Wait for the server to close the connection after the answers (up to `timeoutMs`). */
  awaitClose?: boolean;
  /** Give up after this long; what arrived so far is the result. Default 3000. */
  timeoutMs?: number;
  /** Further writes, each after `gapMs` (a head or body split across TCP reads). */
  more?: Array<string | Buffer>;
  gapMs?: number;
  /** The request is a HEAD: its answers have no body whatever Content-Length says. */
  head?: boolean;
}

/** Sends `bytes` on a fresh connection and collects what comes back. */
export function rawHttp(port: number, bytes: string | Buffer, options: RawOptions = {}): Promise<RawExchange> {
  const wanted = options.answers ?? 1;
  const timeoutMs = options.timeoutMs ?? 3000;
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    const answers: RawAnswer[] = [];
    let closed = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve({ answers, closed, trailing: buffer, elapsedMs: Date.now() - started });
    };
    const check = (): void => {
      for (;;) {
        const parsed = parseAnswer(buffer, options.head === true);
        if (!parsed) break;
        answers.push(parsed.answer);
        buffer = buffer.subarray(parsed.size);
      }
      if (answers.length >= wanted && (!options.awaitClose || closed)) finish();
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      check();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      check();
      finish();
    });
    timers.push(setTimeout(finish, timeoutMs));
    socket.write(bytes);
    (options.more ?? []).forEach((piece, index) => {
      timers.push(setTimeout(() => socket.destroyed || socket.write(piece), (options.gapMs ?? 100) * (index + 1)));
    });
  });
}

/** One complete answer at the front of `bytes` (Content-Length framed, as sigcast answers), if all there. */
function parseAnswer(bytes: Buffer, head: boolean): { answer: RawAnswer; size: number } | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const length = head || status === 101 || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
  if (bytes.length < end + 4 + length) return undefined;
  const body = Buffer.from(bytes.subarray(end + 4, end + 4 + length));
  let json: unknown;
  try {
    json = JSON.parse(body.toString());
  } catch {
    json = undefined;
  }
  return { answer: { status, headers, body, json }, size: end + 4 + length };
}

/** A request as bytes: request line, headers (in order, repeats allowed), blank line, body. */
export function httpRequest(
  requestLine: string,
  headers: Array<[string, string]>,
  body: string | Buffer = '',
): Buffer {
  const head = [requestLine, ...headers.map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}
