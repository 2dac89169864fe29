import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE, SigcastError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Encoding, WireFrame } from '../protocol/encoding.js';
import { errorResponse, internalErrorResponse, type HttpRequest, type HttpResponse } from '../protocol/http.js';
import { Heartbeat } from './heartbeat.js';
import { LagMonitor } from './lag-monitor.js';
import { shuttingDownUpgrade } from './http-answers.js';
import { ListenError, listenProblemOf } from './listen-error.js';
import { frameHardLimit, HEARTBEAT_TIMEOUT_REASON, HTTP_REQUEST_TIMEOUT_MS, sendBufferHardCap, sweeperLimits } from './limits.js';
import { SlowConsumerSweeper } from './slow-consumer-sweeper.js';
import { checkHandshake } from './upgrade-policy.js';
import type { CloseCause, CloseInfo, SessionFactory, Transport, TransportHandlers, TransportOptions } from './transport.js';
import { WsConnection, type ConnectionOwner } from './ws-connection.js';
import { buildDataFrame } from './ws-frame.js';
import { parseErrorAnswer, readHttpRequest, refusalOf, requestHead, writeHttpResponse, writeRawHttpResponse } from './ws-http.js';

/** How long shutdown waits by default for clients to answer the close frame before dropping them. */
const CLOSE_GRACE_MS = 1000;

/** Close codes `ws` itself sends when a client breaks the protocol (RFC 6455 section 7.4.1). */
const PROTOCOL_CLOSE_CODES = new Set([1002, 1003, 1007, 1009]);

/**
 * HTTP and WebSocket on node:http + ws, for platforms where uWS does not load. Same routes,
 * protocol, limits and close codes as the uWS transport. Fan-out: a topic -> connections map;
 * each published frame is framed once and the same bytes are written to every subscriber.
 */
export class WsTransport implements Transport, ConnectionOwner {
  readonly name = 'ws';
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private readonly topics = new Map<string, Set<WsConnection>>();
  /** The subprotocol each accepted upgrade negotiated, for ws's handleProtocols. */
  private readonly protocols = new WeakMap<IncomingMessage, string>();
  private readonly sweeper: SlowConsumerSweeper<WsConnection>;
  private readonly heartbeat: Heartbeat<WsConnection>;
  private readonly lagMonitor: LagMonitor<WsConnection>;
  private handlers: TransportHandlers | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly options: TransportOptions,
    private readonly log: Logger,
  ) {
    this.server = createServer(
      {
        // uWS's limits and timeouts rather than Node's (16 KiB heads; 60 s for headers, 300 s a request):
        // a little over sigcast's own head limits, so that request-head.ts gives the precise answer.
        maxHeaderSize: options.maxUrlBytes + options.maxHeaderBytes + 1024,
        headersTimeout: HTTP_REQUEST_TIMEOUT_MS,
        requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeout: HTTP_REQUEST_TIMEOUT_MS,
        // How often those timeouts are checked (Node's default, 30 s, would let them run 3x over).
        connectionsCheckingInterval: 1000,
        // Host is checked by request-head.ts, for a catalog answer.
        requireHostHeader: false,
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
    this.server.on('clientError', (error: Error, socket: Duplex) => {
      const answer = parseErrorAnswer(error, options.maxUrlBytes);
      if (answer) writeRawHttpResponse(socket, answer);
      else socket.destroy();
    });
    // A CONNECT is not an upgrade sigcast serves (node:http would drop it without a word).
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
      writeRawHttpResponse(socket, errorResponse(new SigcastError('method_not_allowed', 'CONNECT is not served'), { connection: 'close' })),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: frameHardLimit(options.maxFrameBytes),
      // Pongs are answered by WsConnection.pong: ws's own drops a client after 60 in a burst.
      autoPong: false,
      handleProtocols: (_offered, req) => this.protocols.get(req) ?? false,
    });
    this.sweeper = new SlowConsumerSweeper(this.connections, sweeperLimits(options), (connection, why) => {
      if (why === 'budget') log.warn({ connection: connection.id, buffered: connection.bufferedAmount() }, 'send budget exceeded: closing the largest consumer');
      connection.close('slow_consumer', CLOSE.slow_consumer.code, CLOSE.slow_consumer.reason);
    });
    this.heartbeat = new Heartbeat(this.connections, options.heartbeatSeconds, (connection) =>
      connection.terminate('heartbeat', HEARTBEAT_TIMEOUT_REASON),
    );
    this.lagMonitor = new LagMonitor(this.connections, {
      maxLagMs: options.maxLagMs,
      onLagging: (connection, lagMs) => {
        if (connection.session?.onLagging?.(lagMs)) return true;
        connection.close('lag', CLOSE.lagging.code, CLOSE.lagging.reason);
        return false;
      },
      observe: (lagMs) => this.handlers?.observeLag?.(lagMs),
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get bufferedBytes(): number {
    return this.sweeper.bufferedBytes;
  }

  listen(host: string, port: number, handlers: TransportHandlers): Promise<number> {
    this.handlers = handlers;
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(listenProblemOf(error.code), host, port, { cause: error }));
      this.server.once('error', failed);
      // `reusePort` needs Node >= 22.12 (wiring refuses REUSE_PORT on older ones); `exclusive`
      // keeps node:cluster workers from sharing the port behind our back.
      this.server.listen({ port, host, exclusive: !this.options.reusePort, reusePort: this.options.reusePort }, () => {
        this.server.off('error', failed);
        this.sweeper.start();
        this.heartbeat.start();
        this.lagMonitor.start();
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  publish(topic: string, frames: readonly WireFrame[]): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers || subscribers.size === 0 || frames.length === 0) return;
    // All frames of the call, framed once and joined: one write (one syscall) per subscriber.
    const bytes = frames.length === 1 ? buildDataFrame(frames[0]!) : Buffer.concat(frames.map(buildDataFrame));
    this.sweeper.noteWrite(bytes.length, subscribers.size);
    for (const connection of subscribers) connection.write(bytes);
  }

  stopListening(): void {
    if (this.closing) return;
    this.closing = true;
    // New connections are refused; requests in flight and open sockets carry on.
    this.server.close();
  }

  close(waitMs = CLOSE_GRACE_MS): Promise<void> {
    return (this.closed ??= this.shutdown(waitMs));
  }

  // ---- ConnectionOwner ----

  addToTopic(topic: string, connection: WsConnection): void {
    let subscribers = this.topics.get(topic);
    if (!subscribers) this.topics.set(topic, (subscribers = new Set()));
    subscribers.add(connection);
  }

  removeFromTopic(topic: string, connection: WsConnection): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers?.delete(connection)) return;
    if (subscribers.size === 0) this.topics.delete(topic);
  }

  finished(connection: WsConnection, close: CloseInfo): void {
    if (!this.connections.delete(connection)) return;
    connection.session?.onClose(close);
  }

  overflowed(connection: WsConnection): void {
    // Past the hard cap nothing more is buffered: drop it now, as uWS does (no close frame).
    connection.terminate('slow_consumer', '');
  }

  // ---- HTTP and upgrades ----

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = await readHttpRequest(req, this.options);
    if (!parsed.ok) {
      if ('response' in parsed) writeHttpResponse(res, parsed.response);
      return;
    }
    // A request to the WebSocket path that is not an upgrade: the policy says why (426, 405).
    if (parsed.request.path === this.options.wsPath) return writeHttpResponse(res, this.notAnUpgrade(parsed.request));
    writeHttpResponse(res, await this.answer(parsed.request));
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const request = { ...requestHead(req), body: Buffer.alloc(0) };
    const refusal = refusalOf(req, this.options);
    if (refusal) return writeRawHttpResponse(socket, refusal);
    // Like uWS, only the WebSocket path upgrades; elsewhere an upgrade is a plain request.
    if (request.path !== this.options.wsPath) return writeRawHttpResponse(socket, await this.answer(request));
    const verdict = checkHandshake(request);
    if ('refused' in verdict) return writeRawHttpResponse(socket, verdict.refused);
    if (this.closing) return writeRawHttpResponse(socket, shuttingDownUpgrade());
    let sessions = this.handlers!.sessions;
    let abandon = (): void => {};
    const check = this.handlers!.upgrade;
    if (check) {
      // Decided before ws writes the 101: a refused upgrade is a plain HTTP answer.
      const decision = await check({ headers: request.headers, query: request.query, remoteAddress: request.remoteAddress ?? '' });
      if (!decision.accept) return writeRawHttpResponse(socket, decision.response);
      ({ sessions, abandon } = decision);
      if (this.closing || socket.destroyed) {
        abandon();
        return writeRawHttpResponse(socket, shuttingDownUpgrade());
      }
    }
    this.protocols.set(req, verdict.protocol);
    let opened = false;
    // ws calls back synchronously once the 101 is written, or never (the socket was gone).
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      opened = true;
      this.onOpen(ws, socket as Socket, verdict.encoding, sessions);
    });
    if (!opened) abandon();
  }

  private notAnUpgrade(request: HttpRequest): HttpResponse {
    const verdict = checkHandshake(request);
    return 'refused' in verdict ? verdict.refused : errorResponse(new SigcastError('upgrade_required'), { upgrade: 'websocket', connection: 'close' });
  }

  private onOpen(ws: WebSocket, raw: Socket, encoding: Encoding, sessions: SessionFactory): void {
    const connection = new WsConnection(ws, raw, encoding, this, sendBufferHardCap(this.options.sendBufferBytes), this.sweeper);
    this.connections.add(connection);
    // Every byte counts for the heartbeat (`ws` itself reads the same chunks).
    raw.on('data', () => connection.heard());
    ws.on('ping', (data: Buffer) => connection.pong(data));
    ws.on('pong', (data: Buffer) => {
      if (!connection.closed) this.lagMonitor.onPong(connection, data);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (connection.closed) return;
      connection.lag.watched = true;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
      // Frames between the limit and the hard limit get the documented close, as on uWS.
      if (bytes.byteLength > this.options.maxFrameBytes) {
        return connection.close('protocol', CLOSE.frame_too_large.code, CLOSE.frame_too_large.reason);
      }
      connection.session?.onMessage(bytes, isBinary);
    });
    ws.on('error', (error) => this.log.debug({ err: error, connection: connection.id }, 'WebSocket error'));
    ws.on('close', (code: number, reason: Buffer) => connection.finish({ cause: peerCloseCause(code), code, reason: reason.toString() }));
    connection.session = sessions(connection);
  }

  private async answer(request: HttpRequest): Promise<HttpResponse> {
    return this.handlers!.http(request).catch((error: unknown) => {
      this.log.error({ err: error }, 'HTTP handler failed');
      return internalErrorResponse();
    });
  }

  private async shutdown(waitMs: number): Promise<void> {
    this.stopListening();
    this.sweeper.stop();
    this.heartbeat.stop();
    this.lagMonitor.stop();
    const open = [...this.connections];
    const { code, reason } = CLOSE.going_away;
    for (const connection of open) connection.close('shutdown', code, reason);
    // Give clients a moment to answer the close frame, so that it reaches them before we exit.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(open.map((connection) => connection.socketClosed())), grace]);
    clearTimeout(timer);
    for (const connection of open) connection.terminate('shutdown', reason);
    this.server.closeAllConnections();
  }
}

/** A close sigcast did not start: `ws` closed it for a protocol violation, or the client did. */
function peerCloseCause(code: number): CloseCause {
  return PROTOCOL_CLOSE_CODES.has(code) ? 'protocol' : 'peer';
}
