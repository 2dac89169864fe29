// The seam between sigcast and a WebSocket/HTTP library. Two implementations: `uws`
// (uWebSockets.js, the default) and `ws` (node:http + ws, where uWS cannot load). Transports
// only move bytes: they satisfy the hub's ports (hub/port.ts), hand each socket to a session and
// each request to the HTTP handler, and report why every socket closed.
import type { FanOut, SubscriberPort } from '../hub/port.js';
import type { HttpHandler, HttpResponse } from '../protocol/http.js';

/**
 * Why a socket closed, the same on both transports: `heartbeat` (silent past the heartbeat),
 * `slow_consumer` (send buffer over the limit or the hard cap), `lag` (its reader fell further
 * behind than MAX_LAG_MS), `protocol` (a frame or handshake the protocol refuses), `shutdown` (the
 * node is stopping), `peer` (the client closed or went away), `auth` (the connection's credential
 * expired).
 */
export type CloseCause = 'heartbeat' | 'slow_consumer' | 'lag' | 'peer' | 'shutdown' | 'protocol' | 'auth';

export interface CloseInfo {
  cause: CloseCause;
  /** The close code the client sees (1006 where no close frame was sent). */
  code: number;
  reason: string;
}

/** One client WebSocket as the layers above see it. */
export interface Connection extends SubscriberPort {
  readonly id: number;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** Closes with a code and reason, for a cause. Safe to call more than once. */
  close(cause: CloseCause, code: number, reason: string): void;
}

/** The protocol logic of one connection, created for each new socket. */
export interface Session {
  onMessage(data: ArrayBuffer | Uint8Array, isBinary: boolean): void;
  /** Called exactly once, when the socket is gone. */
  onClose(close: CloseInfo): void;
  /**
   * The socket's reader is more than MAX_LAG_MS behind. True: the session made it skip ahead (it
   * only has conflated feeds), so it stays open; false: it is closed with 4008 `lagging`. Asked
   * again only after it caught up once.
   */
  onLagging?(lagMs: number): boolean;
}

export type SessionFactory = (connection: Connection) => Session;

/** What a transport tells about a WebSocket upgrade before completing it. */
export interface UpgradeRequest {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query: URLSearchParams;
  /** The TCP peer's address. */
  remoteAddress: string;
}

/**
 * Whether an upgrade goes on: accepted with the session factory of its socket (and `abandon`,
 * which the transport calls instead when the socket never opened: the client went away
 * meanwhile), or refused with an HTTP answer.
 */
export type UpgradeDecision =
  | { accept: true; sessions: SessionFactory; abandon(): void }
  | { accept: false; response: HttpResponse };

/** Decides an upgrade, asynchronously; it never rejects. */
export type UpgradeHandler = (request: UpgradeRequest) => Promise<UpgradeDecision>;

/** What a transport serves once it listens. */
export interface TransportHandlers {
  http: HttpHandler;
  sessions: SessionFactory;
  /**
   * Asked before each WebSocket upgrade completes (auth, origins, connection limits: the policy
   * stays out of the transports); without it every negotiated upgrade opens with `sessions`.
   */
  upgrade?: UpgradeHandler;
  /** Each lag measurement (ms): the round trip of a probe, see lag-monitor.ts. */
  observeLag?: (lagMs: number) => void;
}

export interface TransportOptions {
  /** Path of the WebSocket endpoint. */
  wsPath: string;
  maxBodyBytes: number;
  /** Longest request target (path and query): 414 past it. */
  maxUrlBytes: number;
  /** Most bytes of header lines in one request: 431 past it. */
  maxHeaderBytes: number;
  maxFrameBytes: number;
  /** Send-buffer bytes past which a socket is closed as a slow consumer. */
  sendBufferBytes: number;
  /** Send-buffer bytes of all sockets together past which the largest are closed as slow consumers. */
  sendBudgetBytes: number;
  heartbeatSeconds: number;
  /** How far (ms) a socket's reader may fall behind before it is closed with 4008 `lagging`. */
  maxLagMs: number;
  /**
   * Share the port with other processes that set it too (SO_REUSEPORT: the kernel spreads new
   * connections over them). Off, listening on a port another process holds fails.
   */
  reusePort: boolean;
}

export interface Transport extends FanOut {
  readonly name: 'uws' | 'ws';
  /** Starts listening; resolves with the bound port (useful with port 0). Rejects with a ListenError. */
  listen(host: string, port: number, handlers: TransportHandlers): Promise<number>;
  /** Number of open WebSocket connections. */
  readonly connectionCount: number;
  /** Bytes waiting in every socket's send buffer, as of the last slow-consumer sweep. */
  readonly bufferedBytes: number;
  /** Stops accepting new connections and requests; existing ones keep working. */
  stopListening(): void;
  /**
   * Closes every WebSocket with 1001 (shutdown) and releases the server, spending up to `waitMs`
   * (default 1000) so that the close frames reach the clients before the process exits (uws: send
   * buffers drain first; ws: clients answer the close frame). Idempotent.
   */
  close(waitMs?: number): Promise<void>;
}
