import type { AckFrame, ErrorFrame, LiveFrame, ResetFrame, ServerFrame, WelcomeFrame } from '../src/protocol/frames.js';
import type { Entry, PublishItem } from '../src/signal/schema.js';
import { backoffDelay } from './backoff.js';
import { Emitter, SigcastClientError } from './events.js';
import type { Position, StartPosition } from './position-tracker.js';
import { PendingRequests } from './requests.js';
import { Subscriptions, type DeliveredEntry, type SubscribeOptions } from './subscriptions.js';
import { now, Watchdog } from './watchdog.js';
import { CLOSED, decodeServerFrame, encodeClientFrame, socketAddress, type Encoding, type OutgoingFrame, type WebSocketConstructor, type WebSocketLike } from './wire.js';

export type { DeliveredEntry, Entry, LiveFrame, Position, PublishItem, ResetFrame, StartPosition, SubscribeOptions, WebSocketConstructor, WebSocketLike, WelcomeFrame };
export { SigcastClientError } from './events.js';
export type AckEntry = AckFrame['entries'][number];

export interface SigcastClientOptions {
  /** Wire encoding of the connection. Default 'json'. */
  encoding?: Encoding;
  /** The WebSocket class: the global one by default (browsers, Node >= 22); pass `ws` on Node 20. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff (exponential with jitter), or false to stay closed. Default 250 ms up to 10 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number } | false;
  /** How long publish() and ping() wait for their answer (including for a connection). Default 10 s. */
  requestTimeoutMs?: number;
  /**
   * API key or JWT, sent at every (re)connect as a `sigcast.token.<token>` subprotocol (or
   * `?token=` when it holds characters a subprotocol cannot). A function is asked before every
   * connect, so a refreshed token is used on the next one. A server without auth ignores it.
   */
  token?: string | (() => string | undefined);
}

/** `reconnectInMs` is set when the client will reconnect by itself. */
export interface CloseInfo {
  code: number;
  reason: string;
  reconnectInMs?: number;
}

type ClientEvents = {
  open: [welcome: WelcomeFrame];
  close: [info: CloseInfo];
  error: [error: SigcastClientError];
  reset: [reset: ResetFrame];
};

/** Close code the client uses when the server went silent past its heartbeat (a half-open connection). */
export const CLIENT_HEARTBEAT_CLOSE = 4000;
/** Close code of a connection the app asked to replace (`reconnect()`). */
export const CLIENT_RECONNECT_CLOSE = 4001;

/**
 * A sigcast /v1 client for Node and browsers. It keeps every subscription's position and, after
 * any disconnect, reconnects and resumes each channel from it: the app sees every entry exactly
 * once, in seq order, and is told by `reset` when the server could not honour a position.
 */
export class SigcastClient extends Emitter<ClientEvents> {
  readonly encoding: Encoding;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly subscriptions = new Subscriptions((what, fn) => this.callApp(what, fn));
  private readonly requests = new PendingRequests();
  private readonly watchdog = new Watchdog();
  private socket: WebSocketLike | undefined;
  private welcome: WelcomeFrame | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  /**
   * `url` is the /v1/ws endpoint, e.g. ws://127.0.0.1:8080/v1/ws, or a function asked before every
   * (re)connect, so an app can fail over to another node.
   */
  constructor(
    private readonly url: string | (() => string),
    private readonly options: SigcastClientOptions = {},
  ) {
    super();
    this.encoding = options.encoding ?? 'json';
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw new Error('no global WebSocket: pass the `ws` package as options.WebSocket');
    this.WebSocketImpl = impl;
    this.connect();
  }

  /** True between the server's welcome and the socket's close. */
  get connected(): boolean {
    return this.welcome !== undefined;
  }

  /** Resolves with the welcome frame once connected (at once if already). */
  opened(): Promise<WelcomeFrame> {
    if (this.welcome) return Promise.resolve(this.welcome);
    if (this.closing) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const offOpen = this.on('open', (welcome) => (offOpen(), offClose(), resolve(welcome)));
      const offClose = this.on('close', (info) => {
        if (info.reconnectInMs !== undefined) return;
        offOpen();
        offClose();
        reject(closedError());
      });
    });
  }

  /**
   * Subscribes to a channel from a position (`since`+`epoch`, the `last` N, or live only when
   * neither is given). Returns the function that unsubscribes. One subscription per channel.
   */
  subscribe(channel: string, options: SubscribeOptions, onEntry: (entry: DeliveredEntry) => void): () => void {
    if (this.closing) throw closedError();
    const remove = this.subscriptions.add(channel, options, onEntry);
    const frame = this.welcome ? this.subscriptions.pendingFrame(channel) : undefined;
    if (frame) this.send(frame);
    return () => {
      const frame = remove();
      if (frame && this.welcome) this.send(frame);
    };
  }

  /** The last seq delivered to the app on a channel, with its epoch. */
  position(channel: string): Position | undefined {
    return this.subscriptions.position(channel);
  }

  /**
   * Publishes one signal or a batch; resolves with one ack entry per signal and target channel,
   * in input order. Rejects with the server's error code (e.g. invalid_signal with details), or
   * `connection_closed` when the socket closed first: retry then, with signal ids to stay idempotent.
   */
  publish(signals: PublishItem | readonly PublishItem[]): Promise<AckEntry[]> {
    if (this.closing) return Promise.reject(closedError());
    const body = Array.isArray(signals) ? [...(signals as readonly PublishItem[])] : (signals as PublishItem);
    const { promise } = this.requests.add('p', (id) => ({ op: 'publish', id, signals: body }), (frame) => (frame.type === 'ack' ? frame.entries : []), this.timeoutMs);
    this.flushRequests();
    return promise;
  }

  /** Application-level round trip to the server, in ms. */
  async ping(): Promise<number> {
    await this.opened();
    const started = now();
    const { promise } = this.requests.add('g', (id) => ({ op: 'ping', id }), () => now() - started, this.timeoutMs);
    this.flushRequests();
    return promise;
  }

  /**
   * Drops the connection and connects again (e.g. after the token changed); subscriptions resume
   * from their positions, as after any disconnect. Connects at once when waiting to reconnect.
   */
  reconnect(): void {
    if (this.closing) return;
    const socket = this.socket;
    if (!socket) {
      clearTimeout(this.reconnectTimer);
      return this.connect();
    }
    this.onSocketClosed(CLIENT_RECONNECT_CLOSE, 'reconnect requested');
    socket.close(CLIENT_RECONNECT_CLOSE, 'reconnect requested');
  }

  /** Closes for good (no reconnect); pending requests fail with `client_closed`. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      clearTimeout(this.reconnectTimer);
      this.requests.failAll(closedError());
      const socket = this.socket;
      if (!socket || socket.readyState === CLOSED) return resolve();
      this.resolveClosed = resolve;
      socket.close(1000, 'bye');
    });
    return this.closing;
  }

  protected override onListenerError(error: unknown, event: string): void {
    if (event === 'error') return; // never loop on a failing error listener
    this.emit('error', new SigcastClientError('listener_error', `a ${event} listener threw: ${describe(error)}`));
  }

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 10_000;
  }

  private connect(): void {
    const url = typeof this.url === 'function' ? this.url() : this.url;
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    let socket: WebSocketLike;
    try {
      const address = socketAddress(url, this.encoding, token);
      socket = address.protocols ? new this.WebSocketImpl(address.url, address.protocols) : new this.WebSocketImpl(address.url);
    } catch (error) {
      this.emit('error', new SigcastClientError('socket_error', `cannot open ${url}: ${describe(error)}`));
      return this.scheduleReconnect({ code: 1006, reason: 'connect failed' });
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    // Events of a socket the client already gave up on (see the watchdog) are ignored.
    socket.addEventListener('message', (event) => this.socket === socket && this.onFrame(decodeServerFrame(event.data, this.encoding)));
    socket.addEventListener('close', (event) => this.socket === socket && this.onSocketClosed(event.code, event.reason));
    socket.addEventListener('error', () => {
      if (this.socket === socket && !this.closing) this.emit('error', new SigcastClientError('socket_error', `WebSocket error on ${url}`));
    });
  }

  private onFrame(frame: ServerFrame | undefined): void {
    this.watchdog.heard();
    if (!frame) return this.emit('error', new SigcastClientError('bad_frame', 'the server sent a frame that is not a protocol frame'));
    switch (frame.type) {
      case 'welcome':
        return this.onWelcome(frame);
      case 'subscribed':
        return this.subscriptions.onSubscribed(frame);
      case 'reset':
        if (this.subscriptions.onReset(frame)) this.emit('reset', frame);
        return;
      case 'entry':
        return this.subscriptions.onEntry(frame);
      case 'entries':
        return this.subscriptions.onEntries(frame);
      case 'live':
        return this.subscriptions.onLive(frame);
      case 'ack':
      case 'pong':
        this.requests.answer(frame);
        return;
      case 'error':
        return this.onError(frame);
      case 'unsubscribed':
        return;
    }
  }

  private onWelcome(welcome: WelcomeFrame): void {
    this.welcome = welcome;
    this.attempt = 0;
    const socket = this.socket!;
    this.watchdog.start(
      welcome.heartbeatSeconds * 1000,
      () => this.send({ op: 'ping' }),
      () => {
        this.onSocketClosed(CLIENT_HEARTBEAT_CLOSE, 'no frame from the server within the heartbeat');
        socket.close(CLIENT_HEARTBEAT_CLOSE, 'heartbeat timeout');
      },
    );
    this.subscriptions.batch = welcome.features?.includes('batch') ?? false;
    this.emit('open', welcome);
    for (const frame of this.subscriptions.subscribeAll()) this.send(frame);
    this.flushRequests();
  }

  private onError(frame: ErrorFrame): void {
    if (this.requests.answer(frame)) return;
    const failure = this.subscriptions.onError(frame);
    const error = failure?.retry === false ? failure.error : new SigcastClientError(frame.code, frame.message, frame.details, frame.channel);
    if (failure?.retry) {
      // The channel's history could not be read right now: ask again on this socket a bit later.
      const socket = this.socket;
      setTimeout(() => {
        const retry = this.socket === socket && this.welcome ? this.subscriptions.pendingFrame(failure.channel) : undefined;
        if (retry) this.send(retry);
      }, backoffDelay(2, ...this.backoff()));
    }
    this.emit('error', error);
  }

  private onSocketClosed(code: number, reason: string): void {
    const socket = this.socket!;
    this.socket = undefined;
    this.welcome = undefined;
    this.watchdog.stop();
    this.requests.failSentOn(socket, new SigcastClientError('connection_closed', `the connection closed (${code} ${reason}) before the answer`));
    this.subscriptions.disconnected();
    if (this.closing) {
      this.emit('close', { code, reason });
      return this.resolveClosed?.();
    }
    this.scheduleReconnect({ code, reason });
  }

  private scheduleReconnect(info: CloseInfo): void {
    if (this.options.reconnect === false) {
      this.closing ??= Promise.resolve();
      this.requests.failAll(new SigcastClientError('connection_closed', `the connection closed (${info.code} ${info.reason})`));
      return this.emit('close', info);
    }
    const delayMs = backoffDelay(this.attempt++, ...this.backoff());
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    this.emit('close', { ...info, reconnectInMs: delayMs });
  }

  private backoff(): [number, number] {
    const reconnect = this.options.reconnect || {};
    return [reconnect.initialDelayMs ?? 250, reconnect.maxDelayMs ?? 10_000];
  }

  private flushRequests(): void {
    const socket = this.socket;
    if (!socket || !this.welcome) return;
    for (const frame of this.requests.takeUnsent(socket)) this.send(frame);
  }

  private send(frame: OutgoingFrame): void {
    try {
      this.socket?.send(encodeClientFrame(frame, this.encoding));
    } catch (error) {
      this.emit('error', new SigcastClientError('socket_error', `send failed: ${describe(error)}`));
    }
  }

  /** App callbacks must not break the client's bookkeeping: failures become `error` events. */
  private callApp(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onListenerError(error, what);
    }
  }
}

/** Connects to a sigcast /v1/ws URL; the client reconnects by itself until close(). */
export function connect(url: string | (() => string), options: SigcastClientOptions = {}): SigcastClient {
  return new SigcastClient(url, options);
}

function closedError(): SigcastClientError {
  return new SigcastClientError('client_closed', 'the client was closed');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
