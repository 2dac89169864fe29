import type { HttpResponse as UwsResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import { CLOSE } from '../errors.js';
import type { Logger } from '../log.js';
import type { Encoding, WireFrame } from '../protocol/codec.js';
import { readHttpBody, writeHttpResponse } from './uws-http.js';
import { loadUws } from './uws-loader.js';
import { frameHardLimit, heartbeatIdleSeconds, sendBufferHardCap } from './limits.js';
import { refusedUpgrade } from './http-answers.js';
import { negotiateEncoding } from './negotiate.js';
import { SlowConsumerSweeper } from './slow-consumer-sweeper.js';
import type { Connection, Session, Transport, TransportOptions } from './transport.js';

interface SocketData {
  encoding: Encoding;
  protocol: string;
  connection?: UwsConnection;
}

let nextConnectionId = 1;

class UwsConnection implements Connection {
  readonly id = nextConnectionId++;
  closed = false;
  session!: Session;

  constructor(
    private readonly socket: WebSocket<SocketData>,
    readonly encoding: Encoding,
  ) {}

  send(frame: WireFrame): boolean {
    if (this.closed) return false;
    this.socket.send(frame.payload, frame.binary);
    return true;
  }

  subscribe(topic: string): void {
    if (!this.closed) this.socket.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.closed) this.socket.unsubscribe(topic);
  }

  cork(fn: () => void): void {
    if (this.closed) return;
    this.socket.cork(fn);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end(code, reason);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.socket.getBufferedAmount();
  }
}

/** HTTP and WebSocket on uWebSockets.js: fan-out by topic publish, frames copied once per socket. */
export class UwsTransport implements Transport {
  readonly name = 'uws';
  private readonly app: TemplatedApp;
  private readonly connections = new Set<UwsConnection>();
  private readonly sweeper: SlowConsumerSweeper<UwsConnection>;
  private listenSocket: us_listen_socket | undefined;
  private closing = false;

  constructor(
    options: TransportOptions,
    private readonly log: Logger,
  ) {
    const { uws, native, reason } = loadUws();
    if (!native) log.warn({ reason }, 'uWebSockets.js runs on its slow JavaScript emulation');
    this.app = uws.App();
    this.sweeper = new SlowConsumerSweeper(this.connections, options.sendBufferBytes, (connection) => {
      options.onSlowConsumer(connection);
      connection.close(CLOSE.slow_consumer.code, CLOSE.slow_consumer.reason);
    });
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
      upgrade: (res, req, context) => {
        const negotiated = negotiateEncoding(req.getQuery('encoding'), req.getHeader('sec-websocket-protocol'));
        if ('error' in negotiated || this.closing) return writeHttpResponse(res, refusedUpgrade(negotiated, this.closing));
        res.upgrade<SocketData>(
          { encoding: negotiated.encoding, protocol: negotiated.protocol },
          req.getHeader('sec-websocket-key'),
          negotiated.protocol,
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (socket) => {
        const data = socket.getUserData();
        const connection = new UwsConnection(socket, data.encoding);
        data.connection = connection;
        this.connections.add(connection);
        connection.session = options.sessions(connection);
      },
      message: (socket, message, isBinary) => {
        const connection = socket.getUserData().connection;
        if (!connection || connection.closed) return;
        if (message.byteLength > options.maxFrameBytes) {
          return connection.close(CLOSE.frame_too_large.code, CLOSE.frame_too_large.reason);
        }
        connection.session.onMessage(message, isBinary);
      },
      close: (socket, code, message) => {
        const connection = socket.getUserData().connection;
        if (!connection) return;
        connection.closed = true;
        this.connections.delete(connection);
        connection.session.onClose(code, Buffer.from(message).toString());
      },
    });
    this.app.any('/*', (res, req) => {
      const request = readHttpBody(res, req, options.maxBodyBytes);
      void request.then(async (parsed) => {
        if (!parsed.ok) return writeHttpResponse(res, parsed.response);
        const response = await options.http(parsed.request).catch((error: unknown) => {
          this.log.error({ err: error }, 'HTTP handler failed');
          return { status: 500, body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }) };
        });
        writeHttpResponse(res, response);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (listenSocket) => {
        if (!listenSocket) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.listenSocket = listenSocket;
        this.sweeper.start();
        resolve(loadUws().uws.us_socket_local_port(listenSocket));
      });
    });
  }

  publish(topic: string, frames: readonly WireFrame[]): void {
    this.sweeper.notePublish();
    // uWS coalesces what is published outside its handlers into one write per socket.
    for (const frame of frames) this.app.publish(topic, frame.payload, frame.binary);
  }

  stopListening(): void {
    this.closing = true;
    if (this.listenSocket) loadUws().uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  async close(code: number, reason: string): Promise<void> {
    this.stopListening();
    this.sweeper.stop();
    for (const connection of [...this.connections]) connection.close(code, reason);
  }
}

export type { UwsResponse };
