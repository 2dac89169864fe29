import type { Duplex } from 'node:stream';
import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNode, WS_PATH, type SigcastNode } from '../../src/node.js';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { waitFor } from './wait.js';

/**
 * Test harness: a real sigcast node on a free port (real sockets, real Redis when a URL is given)
 * and a small WebSocket client that records every frame it receives.
 */
export async function startTestNode(env: Record<string, string> = {}): Promise<SigcastNode & { baseUrl: string; wsUrl: string }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
  const node = await startNode(config, { log: createLogger(config) });
  return Object.assign(node, { baseUrl: `http://127.0.0.1:${node.port}`, wsUrl: `ws://127.0.0.1:${node.port}${WS_PATH}` });
}

export interface PostResult {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
  body: any;
}

export async function postSignals(baseUrl: string, body: unknown, contentType = 'application/json'): Promise<PostResult> {
  const response = await fetch(`${baseUrl}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export function signal(symbol: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol, side: 'BUY', strength: 0.5, ...extra };
}

const packr = new Packr(MSGPACK_OPTIONS);

/** A recording WebSocket client speaking JSON or msgpack. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private constructor(
    readonly socket: WebSocket,
    readonly encoding: 'json' | 'msgpack',
  ) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = (isBinary ? packr.unpack(data) : JSON.parse(data.toString())) as ServerFrame;
      this.frames.push(frame);
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  /** `subprotocol` negotiates the encoding with Sec-WebSocket-Protocol instead of `?encoding=`. */
  static async connect(
    wsUrl: string,
    options: { encoding?: 'json' | 'msgpack'; autoPong?: boolean; subprotocol?: string; protocols?: string[]; headers?: Record<string, string>; query?: string } = {},
  ): Promise<TestClient> {
    const encoding = options.encoding ?? 'json';
    const socketOptions = { autoPong: options.autoPong ?? true, ...(options.headers ? { headers: options.headers } : {}) };
    const protocols = options.protocols ?? (options.subprotocol ? [options.subprotocol] : undefined);
    const query = options.query ? `&${options.query}` : '';
    const socket = protocols
      ? new WebSocket(`${wsUrl}${options.query ? `?${options.query}` : ''}`, protocols, socketOptions)
      : new WebSocket(`${wsUrl}?encoding=${encoding}${query}`, socketOptions);
    const client = new TestClient(socket, encoding);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await client.waitForFrame((frame) => frame.type === 'welcome');
    return client;
  }

  send(frame: object): void {
    this.socket.send(this.encoding === 'json' ? JSON.stringify(frame) : packr.pack(frame));
  }

  /** Sends bytes as they are: a text frame for a string, a binary frame otherwise. */
  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Sends a frame carrying `id` and waits for the answer with that id (ack, pong, error, ...). */
  async request(frame: { id: string | number } & Record<string, unknown>, timeoutMs = 5000): Promise<ServerFrame> {
    const already = this.frames.length;
    this.send(frame);
    let found: ServerFrame | undefined;
    await waitFor(
      () => (found = this.frames.slice(already).find((f) => 'id' in f && f.id === frame.id)) !== undefined,
      timeoutMs,
      `the answer to request ${String(frame.id)}`,
    );
    return found!;
  }

  /** Stops reading from the TCP socket (a consumer that stopped reading), and starts again. */
  pauseReading(): void {
    (this.socket as unknown as { _socket: Duplex })._socket.pause();
  }

  resumeReading(): void {
    (this.socket as unknown as { _socket: Duplex })._socket.resume();
  }

  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closeCode !== undefined, timeoutMs, 'the socket to close');
    return { code: this.closeCode!, reason: this.closeReason };
  }

  /** Entries received for a channel (replayed and live), in arrival order. */
  entries(channel: string): Array<Extract<ServerFrame, { type: 'entry' }>> {
    // An `entries` frame (a subscription with `batch`) counts as its entries, in order.
    return this.frames
      .filter((frame) => (frame.type === 'entry' || frame.type === 'entries') && frame.channel === channel)
      .flatMap((frame) => (frame.type === 'entries' ? frame.entries.map((entry) => ({ type: 'entry' as const, ...entry })) : frame.type === 'entry' ? [frame] : []));
  }

  seqs(channel: string): number[] {
    return this.entries(channel).map((entry) => entry.seq);
  }

  ofType<T extends ServerFrame['type']>(type: T): Array<Extract<ServerFrame, { type: T }>> {
    return this.frames.filter((frame): frame is Extract<ServerFrame, { type: T }> => frame.type === type);
  }

  async waitForFrame(predicate: (frame: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    let found: ServerFrame | undefined;
    await waitFor(() => (found = this.frames.find(predicate)) !== undefined, timeoutMs, 'a matching frame');
    return found!;
  }

  /** Subscribes and waits until the replay is done (the `live` marker). */
  async subscribe(channel: string, position: { since?: number; epoch?: string; last?: number; batch?: boolean } = {}): Promise<void> {
    const already = this.frames.length;
    this.send({ op: 'subscribe', channel, ...position });
    await waitFor(
      () => this.frames.slice(already).some((frame) => (frame.type === 'live' || frame.type === 'error') && 'channel' in frame && frame.channel === channel),
      10_000,
      `subscription to ${channel}`,
    );
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
