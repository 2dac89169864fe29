// HTTP and WebSocket on uWebSockets.js: fan-out by topic publish, frames copied once per socket.
import type { ListenOptions, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import { CLOSE, SigcastError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Encoding, WireFrame } from '../protocol/encoding.js';
import { errorResponse, internalErrorResponse, type HttpResponse } from '../protocol/http.js';
import { shuttingDownUpgrade } from './http-answers.js';
import { LagMonitor, LagProbes } from './lag-monitor.js';
import { diagnoseListenFailure, ListenError } from './listen-error.js';
import { frameHardLimit, frameSize, HEARTBEAT_TIMEOUT_REASON, heartbeatIdleSeconds, sendBufferHardCap, sweeperLimits } from './limits.js';
import { SlowConsumerSweeper } from './slow-consumer-sweeper.js';
import type { CloseCause, Connection, Session, SessionFactory, Transport, TransportHandlers, TransportOptions } from './transport.js';
import { checkHandshake, type Handshake } from './upgrade-policy.js';
import { isAborted, readHead, readHttpBody, watchAborted, writeHttpResponse } from './uws-http.js';
import { loadUws } from './uws-loader.js';

interface SocketData {
  encoding: Encoding;
  protocol: string;
  /**
   * The upgrade decision's session factory, and whether the socket opened: uWS runs the open
   * handler inside res.upgrade(), so `opened` still false after it means it never did. (uWS
   * copies the user data object's fields into its own, so this must be a shared object.)
   */
  accepted?: { sessions: SessionFactory; opened: boolean };
  connection?: UwsConnection;
}

let nextConnectionId = 1;

/** uWS's answer to a send that passed maxBackpressure: the message is dropped and the socket closed. */
const SEND_DROPPED = 2;

/** How long shutdown waits by default for send buffers to drain before the close frames. */
const CLOSE_GRACE_MS = 1000;

declare module 'uWebSockets.js' {
  interface TemplatedApp {
    /** The native listen also takes (host, port, options, callback); the 20.30 typings omit that form. */
    listen(host: RecognizedString, port: number, options: ListenOptions, cb: (listenSocket: us_listen_socket | false) => void): TemplatedApp;
  }
}

/**
 * uWS's listen options (the ListenOptions enum of its typings, which the native module does not
 * export). Its default shares the port (SO_REUSEPORT): a second process on a taken port would
 * start without an error and get part of the connections, with a history of its own.
 */
const LIBUS_LISTEN_DEFAULT = 0 as ListenOptions;
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1 as ListenOptions;

/** What every socket's writes report to: the sweeper watches the bytes written and each socket's buffer. */
interface WriteObserver {
  noteWrite(bytes: number): void;
  checkSocket(connection: UwsConnection): void;
}

/** Who is in which topic: uWS keeps it to itself, and the lag monitor needs it. */
interface TopicBook {
  add(topic: string, connection: UwsConnection): void;
  remove(topic: string, connection: UwsConnection): void;
}

class UwsConnection implements Connection {
  readonly id = nextConnectionId++;
  closed = false;
  /** Set when sigcast itself closes the socket: the close handler reports it. */
  closeCause: CloseCause | undefined;
  session!: Session;
  readonly lag = new LagProbes();
  readonly topics = new Set<string>();
  readonly remoteAddress: string;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: WebSocket<SocketData>,
    readonly encoding: Encoding,
    private readonly writes: WriteObserver,
    private readonly book: TopicBook,
  ) {
    this.remoteAddress = Buffer.from(socket.getRemoteAddressAsText()).toString();
  }

  get lagging(): boolean {
    return this.lag.behind;
  }

  send(frame: WireFrame): boolean {
    if (this.closed) return false;
    this.writes.noteWrite(frameSize(frame));
    if (this.closed) return false; // the sweep it may have started closed this very socket
    this.lag.written = true;
    // At the hard cap uWS drops the message and closes the socket later, with 1006 and no reason.
    if (this.socket.send(frame.payload, frame.binary) === SEND_DROPPED) this.closeCause ??= 'slow_consumer';
    else this.writes.checkSocket(this);
    return true;
  }

  /** A ping queued behind everything sent so far, topic messages included (uWS drains those first). */
  probe(payload: Uint8Array): void {
    if (this.closed) return;
    this.socket.cork(() => {
      if (this.socket.ping(payload) === SEND_DROPPED) this.closeCause ??= 'slow_consumer';
    });
  }

  onDrain(fn: () => void): void {
    if (!this.closed) this.drainWaiters.push(fn);
  }

  /** uWS's drain handler: some of the backpressure was written out. */
  drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  }

  join(topic: string): void {
    if (this.closed || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.book.add(topic, this);
    this.socket.subscribe(topic);
  }

  leave(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.book.remove(topic, this);
    if (!this.closed) this.socket.unsubscribe(topic);
  }

  /** The socket is gone: out of every topic (uWS unsubscribed it already), and nobody waits for it to drain. */
  forget(): void {
    this.drainWaiters = [];
    for (const topic of this.topics) this.book.remove(topic, this);
    this.topics.clear();
  }

  cork(fn: () => void): void {
    if (this.closed) return;
    this.socket.cork(fn);
  }

  close(cause: CloseCause, code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.drainWaiters = [];
    this.closeCause = cause;
    this.socket.end(code, reason);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.socket.getBufferedAmount();
  }
}

/**
 * Why uWS closed a socket that sigcast did not close itself (hard-cap drops of a send are marked
 * on the connection when the send is refused): silence is uWS's idle timeout.
 */
function closeCauseOf(code: number, message: string): CloseCause {
  if (message === HEARTBEAT_TIMEOUT_REASON) return 'heartbeat';
  return PROTOCOL_CLOSE_CODES.has(code) ? 'protocol' : 'peer';
}

/** Close codes that mean a frame broke the protocol (RFC 6455 section 7.4.1). */
const PROTOCOL_CLOSE_CODES = new Set([1002, 1003, 1007, 1009]);

/** A request to the WebSocket path that uWS did not take as a handshake: refused as the policy says. */
function notAHandshake(request: Handshake): HttpResponse {
  const verdict = checkHandshake(request);
  return 'refused' in verdict ? verdict.refused : errorResponse(new SigcastError('bad_request', 'not a valid WebSocket handshake'), { connection: 'close' });
}

export class UwsTransport implements Transport, TopicBook {
  readonly name = 'uws';
  private readonly app: TemplatedApp;
  private readonly connections = new Set<UwsConnection>();
  private readonly topics = new Map<string, Set<UwsConnection>>();
  private readonly sweeper: SlowConsumerSweeper<UwsConnection>;
  private readonly lagMonitor: LagMonitor<UwsConnection>;
  private listenSocket: us_listen_socket | undefined;
  private handlers: TransportHandlers | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly options: TransportOptions,
    private readonly log: Logger,
  ) {
    const { uws, native, reason } = loadUws();
    if (!native) log.warn({ reason }, 'uWebSockets.js runs on its slow JavaScript emulation');
    this.app = uws.App();
    this.sweeper = new SlowConsumerSweeper(this.connections, sweeperLimits(options), (connection, why) => {
      if (why === 'budget') log.warn({ connection: connection.id, buffered: connection.bufferedAmount() }, 'send budget exceeded: closing the largest consumer');
      connection.close('slow_consumer', CLOSE.slow_consumer.code, CLOSE.slow_consumer.reason);
    });
    this.lagMonitor = new LagMonitor(
      this.connections,
      {
        maxLagMs: options.maxLagMs,
        onLagging: (connection, lagMs) => {
          if (connection.session.onLagging?.(lagMs)) return true;
          connection.close('lag', CLOSE.lagging.code, CLOSE.lagging.reason);
          return false;
        },
        observe: (lagMs) => this.handlers?.observeLag?.(lagMs),
      },
      (topic) => this.topics.get(topic),
    );
    this.app.ws<SocketData>(options.wsPath, {
      // uWS drops an over-limit frame without a close frame (1006); frames up to the hard limit are
      // read so that the message handler can close with the documented 1009 instead.
      maxPayloadLength: frameHardLimit(options.maxFrameBytes),
      // A hard cap well past the sweeper's limit: uWS drops the socket rather than buffer without
      // bound. At only 2x the limit a burst passed it within one sweep, so slow consumers were
      // dropped with 1006, uncounted, instead of the documented 4008.
      maxBackpressure: sendBufferHardCap(options.sendBufferBytes),
      closeOnBackpressureLimit: 1,
      // uWS pings a client silent for half of idleTimeout and drops it after all of it:
      // a ping after heartbeatSeconds, a drop after twice that, as HEARTBEAT_SECONDS documents.
      idleTimeout: heartbeatIdleSeconds(options.heartbeatSeconds),
      sendPingsAutomatically: true,
      drain: (socket) => socket.getUserData().connection?.drained(),
      upgrade: (res, req, context) => {
        // Everything of `req` is read now (it is gone after this callback).
        const head = readHead(res, req, options);
        const verdict = head.refusal ? { refused: head.refusal } : checkHandshake(head);
        if ('refused' in verdict || this.closing) {
          watchAborted(res);
          return writeHttpResponse(res, 'refused' in verdict ? verdict.refused : shuttingDownUpgrade());
        }
        const key = head.headers['sec-websocket-key']!;
        const extensions = head.headers['sec-websocket-extensions'] ?? '';
        const data: SocketData = { encoding: verdict.encoding, protocol: verdict.protocol };
        const check = this.handlers!.upgrade;
        if (!check) return res.upgrade<SocketData>(data, key, verdict.protocol, extensions, context);
        // uWS's asynchronous upgrade: onAborted before any await, and the upgrade itself corked.
        watchAborted(res);
        void check({ headers: head.headers, query: head.query, remoteAddress: head.remoteAddress }).then(
          (decision) => {
            if (!decision.accept) {
              if (!isAborted(res)) writeHttpResponse(res, decision.response);
              return;
            }
            if (isAborted(res) || this.closing) {
              decision.abandon();
              if (!isAborted(res)) writeHttpResponse(res, shuttingDownUpgrade());
              return;
            }
            const accepted = { sessions: decision.sessions, opened: false };
            res.cork(() => res.upgrade<SocketData>({ ...data, accepted }, key, verdict.protocol, extensions, context));
            if (!accepted.opened) decision.abandon();
          },
          (error: unknown) => {
            this.log.error({ err: error }, 'upgrade handler failed');
            if (!isAborted(res)) writeHttpResponse(res, internalErrorResponse());
          },
        );
      },
      open: (socket) => {
        const data = socket.getUserData();
        if (data.accepted) data.accepted.opened = true;
        const connection = new UwsConnection(socket, data.encoding, this.sweeper, this);
        data.connection = connection;
        this.connections.add(connection);
        connection.session = (data.accepted?.sessions ?? this.handlers!.sessions)(connection);
      },
      message: (socket, message, isBinary) => {
        const connection = socket.getUserData().connection;
        if (!connection || connection.closed) return;
        connection.lag.watched = true;
        if (message.byteLength > options.maxFrameBytes) {
          return connection.close('protocol', CLOSE.frame_too_large.code, CLOSE.frame_too_large.reason);
        }
        connection.session.onMessage(message, isBinary);
      },
      pong: (socket, message) => {
        const connection = socket.getUserData().connection;
        if (connection && !connection.closed) this.lagMonitor.onPong(connection, new Uint8Array(message));
      },
      close: (socket, code, message) => {
        const connection = socket.getUserData().connection;
        if (!connection) return;
        const reason = Buffer.from(message).toString();
        const cause = connection.closeCause ?? closeCauseOf(code, reason);
        connection.closed = true;
        connection.forget();
        this.connections.delete(connection);
        connection.session.onClose({ cause, code, reason });
      },
    });
    this.app.any('/*', (res, req) => {
      const request = readHttpBody(res, req, options);
      void request.then(async (parsed) => {
        if (!parsed.ok) return writeHttpResponse(res, parsed.response);
        // uWS sends only what looks like a handshake to the upgrade handler; the rest of the
        // WebSocket path's requests land here and get the policy's refusal.
        if (parsed.request.path === options.wsPath) return writeHttpResponse(res, notAHandshake(parsed.request));
        const response = await this.handlers!.http(parsed.request).catch((error: unknown) => {
          this.log.error({ err: error }, 'HTTP handler failed');
          return internalErrorResponse();
        });
        writeHttpResponse(res, response);
      });
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
    const listenOptions = this.options.reusePort ? LIBUS_LISTEN_DEFAULT : LIBUS_LISTEN_EXCLUSIVE_PORT;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, listenOptions, (listenSocket) => {
        if (!listenSocket) {
          void diagnoseListenFailure(host, port).then((problem) => reject(new ListenError(problem, host, port)));
          return;
        }
        this.listenSocket = listenSocket;
        this.sweeper.start();
        this.lagMonitor.start();
        resolve(loadUws().uws.us_socket_local_port(listenSocket));
      });
    });
  }

  publish(topic: string, frames: readonly WireFrame[]): void {
    // uWS coalesces what is published outside its handlers into one write per socket.
    const subscribers = this.app.numSubscribers(topic);
    if (subscribers === 0) return;
    for (const frame of frames) {
      this.sweeper.noteWrite(frameSize(frame), subscribers);
      this.app.publish(topic, frame.payload, frame.binary);
    }
    this.lagMonitor.noteTopicWrite(topic);
  }

  // ---- TopicBook ----

  add(topic: string, connection: UwsConnection): void {
    let members = this.topics.get(topic);
    if (!members) this.topics.set(topic, (members = new Set()));
    members.add(connection);
  }

  remove(topic: string, connection: UwsConnection): void {
    const members = this.topics.get(topic);
    if (!members?.delete(connection)) return;
    if (members.size === 0) this.topics.delete(topic);
  }

  stopListening(): void {
    this.closing = true;
    if (this.listenSocket) loadUws().uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  close(waitMs = CLOSE_GRACE_MS): Promise<void> {
    return (this.closed ??= this.shutdown(waitMs));
  }

  private async shutdown(waitMs: number): Promise<void> {
    this.stopListening();
    this.sweeper.stop();
    this.lagMonitor.stop();
    // uWS's end() calls the close handler at once and leaves the close frame behind whatever the
    // socket still buffers, which is lost when the process exits: let the buffers drain first.
    const deadline = Date.now() + waitMs;
    while ([...this.connections].some((connection) => connection.bufferedAmount() > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const { code, reason } = CLOSE.going_away;
    for (const connection of [...this.connections]) connection.close('shutdown', code, reason);
  }
}
