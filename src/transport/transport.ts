import type { Encoding, WireFrame } from '../protocol/codec.js';

/**
 * The seam between sigcast and a WebSocket/HTTP library. Two implementations: `uws`
 * (uWebSockets.js, the default) and `ws` (node:http + ws, where uWS cannot load).
 * Transports only move bytes; protocol decisions live in src/protocol and src/http.
 */

/** One client WebSocket as the protocol layer sees it. */
export interface Connection {
  readonly id: number;
  readonly encoding: Encoding;
  readonly closed: boolean;
  /** Writes one frame (text for JSON, binary for msgpack). Returns false if the connection is closed. */
  send(frame: WireFrame): boolean;
  /** Joins a fan-out topic: every later `Transport.publish` to it reaches this connection. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Runs `fn` with this connection's writes batched into as few syscalls as possible. */
  cork(fn: () => void): void;
  /** Closes with a status code and reason. Safe to call more than once. */
  close(code: number, reason: string): void;
}

/** The protocol logic for one connection, created by the composition root for each new socket. */
export interface Session {
  onMessage(data: ArrayBuffer | Uint8Array, isBinary: boolean): void;
  /** `reason` is the close reason, or why the transport dropped the socket (e.g. heartbeat timeout). */
  onClose(code: number, reason: string): void;
}

export type SessionFactory = (connection: Connection) => Session;

export interface HttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

export interface TransportOptions {
  http: HttpHandler;
  sessions: SessionFactory;
  /** Path of the WebSocket endpoint. */
  wsPath: string;
  maxBodyBytes: number;
  maxFrameBytes: number;
  /** Send-buffer bytes past which a socket is closed as a slow consumer. */
  sendBufferBytes: number;
  heartbeatSeconds: number;
  /** Called when a socket is closed for exceeding its send buffer. */
  onSlowConsumer(connection: Connection): void;
}

export interface Transport {
  readonly name: 'uws' | 'ws';
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /**
   * Writes frames, in order, to every connection subscribed to `topic`, each frame built once for
   * all of them; the frames of one call may leave in one write per connection.
   */
  publish(topic: string, frames: readonly WireFrame[]): void;
  /** Number of open WebSocket connections. */
  readonly connectionCount: number;
  /** Stops accepting new connections and requests; existing ones keep working. */
  stopListening(): void;
  /** Closes every WebSocket with the given code (1001 on shutdown) and releases the server. Idempotent. */
  close(code: number, reason: string): Promise<void>;
}

/** Topic of a channel for one encoding: subscribers of each encoding share pre-encoded frames. */
export function topicOf(channel: string, encoding: Encoding): string {
  return encoding === 'json' ? `j:${channel}` : `m:${channel}`;
}
