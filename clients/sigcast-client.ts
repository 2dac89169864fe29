import type { AckFrame, ClientFrame, ErrorFrame, LiveFrame, ResetFrame, ServerFrame, WelcomeFrame } from '../src/protocol/frames.js';
import type { Entry, PublishItem } from '../src/signal/schema.js';
import { backoffDelay } from './backoff.js';
import { Emitter, SigcastClientError } from './events.js';
import { PositionTracker, type Position, type StartPosition } from './position-tracker.js';
import { PendingRequests, type Answer } from './requests.js';
import { CLOSED, decodeServerFrame, encodeClientFrame, socketUrl, type Encoding, type WebSocketConstructor, type WebSocketLike } from './wire.js';

export type { Entry, LiveFrame, Position, PublishItem, ResetFrame, StartPosition, WebSocketConstructor, WebSocketLike, WelcomeFrame };
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
}

export interface SubscribeOptions extends StartPosition {
  /** The position could not be honoured, or the channel's history was lost: see docs/protocol.md. */
  onReset?: (reset: ResetFrame) => void;
  /** The replay is done; entries from now on are live. Called again after every re-subscribe. */
  onLive?: (live: LiveFrame) => void;
  /** The server refused the subscription (e.g. invalid_channel); it is then dropped. */
  onError?: (error: SigcastClientError) => void;
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

interface Subscription {
  readonly tracker: PositionTracker;
  readonly onEntry: (entry: Entry) => void;
  readonly options: SubscribeOptions;
  /** Id of the subscribe frame sent on the current socket; frames of the channel count only after its `subscribed`. */
  requestId: string | undefined;
  joined: boolean;
}

/** Close code the client uses when the server went silent past its heartbeat (a half-open connection). */
export const CLIENT_HEARTBEAT_CLOSE = 4000;
const TRANSIENT_SUBSCRIBE_ERRORS = new Set(['unavailable', 'shutting_down', 'internal']);

/**
 * A sigcast /v1 client for Node and browsers. It keeps every subscription's position and, after
 * any disconnect, reconnects and resumes each channel from it: the app sees every entry exactly
 * once, in seq order, and is told by `reset` when the server could not honour a position.
 */
export class SigcastClient extends Emitter<ClientEvents> {
  readonly encoding: Encoding;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly requests = new PendingRequests();
  private socket: WebSocketLike | undefined;
  private welcome: WelcomeFrame | undefined;
  private attempt = 0;
  private nextSubscribeId = 1;
  private lastFrameAt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
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
    const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    const impl = options.WebSocket ?? globalWebSocket;
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
    if (this.closing) return Promise.reject(new SigcastClientError('client_closed', 'the client was closed'));
    return new Promise((resolve, reject) => {
      const offOpen = this.on('open', (welcome) => (offOpen(), offClose(), resolve(welcome)));
      const offClose = this.on('close', (info) => {
        if (info.reconnectInMs !== undefined) return;
        offOpen();
        offClose();
        reject(new SigcastClientError('client_closed', `closed (${info.code} ${info.reason})`));
      });
    });
  }

  /**
   * Subscribes to a channel from a position (`since`+`epoch`, the `last` N, or live only when
   * neither is given). Returns the function that unsubscribes. One subscription per channel.
   */
  subscribe(channel: string, options: SubscribeOptions, onEntry: (entry: Entry) => void): () => void {
    if (this.closing) throw new SigcastClientError('client_closed', 'the client was closed');
    if (this.subscriptions.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const subscription: Subscription = { tracker: new PositionTracker(options), onEntry, options, requestId: undefined, joined: false };
    this.subscriptions.set(channel, subscription);
    if (this.welcome) this.sendSubscribe(channel, subscription);
    return () => {
      if (this.subscriptions.get(channel) !== subscription) return;
      this.subscriptions.delete(channel);
      if (this.welcome && subscription.requestId !== undefined) this.send({ op: 'unsubscribe', channel });
    };
  }

  /** The last seq delivered to the app on a channel, with its epoch. */
  position(channel: string): Position | undefined {
    return this.subscriptions.get(channel)?.tracker.position;
  }

  /**
   * Publishes one signal or a batch; resolves with one ack entry per signal and target channel,
   * in input order. Rejects with the server's error code (e.g. invalid_signal with details), or
   * `connection_closed` when the socket closed first: retry then, with signal ids to stay idempotent.
   */
  publish(signals: PublishItem | readonly PublishItem[]): Promise<AckEntry[]> {
    if (this.closing) return Promise.reject(new SigcastClientError('client_closed', 'the client was closed'));
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

  /** Closes for good (no reconnect); pending requests fail with `client_closed`. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      clearTimeout(this.reconnectTimer);
      this.requests.failAll(new SigcastClientError('client_closed', 'the client was closed'));
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
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(socketUrl(url, this.encoding));
    } catch (error) {
      this.emit('error', new SigcastClientError('socket_error', `cannot open ${url}: ${describe(error)}`));
      return this.scheduleReconnect({ code: 1006, reason: 'connect failed' });
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.addEventListener('message', (event) => this.socket === socket && this.onFrame(socket, decodeServerFrame(event.data, this.encoding)));
    socket.addEventListener('close', (event) => this.socket === socket && this.onSocketClosed(event.code, event.reason));
    socket.addEventListener('error', () => {
      if (this.socket === socket && !this.closing) this.emit('error', new SigcastClientError('socket_error', `WebSocket error on ${url}`));
    });
  }

  private onFrame(socket: WebSocketLike, frame: ServerFrame | undefined): void {
    this.lastFrameAt = now();
    if (!frame) return this.emit('error', new SigcastClientError('bad_frame', 'the server sent a frame that is not a protocol frame'));
    switch (frame.type) {
      case 'welcome':
        return this.onWelcome(socket, frame);
      case 'subscribed': {
        const subscription = this.subscriptions.get(frame.channel);
        if (!subscription || subscription.requestId !== frame.id) return;
        subscription.joined = true;
        return subscription.tracker.onSubscribed(frame);
      }
      case 'reset': {
        const subscription = this.joined(frame.channel);
        if (!subscription) return;
        subscription.tracker.onReset(frame);
        this.callApp('reset', () => subscription.options.onReset?.(frame));
        return this.emit('reset', frame);
      }
      case 'entry': {
        const subscription = this.joined(frame.channel);
        if (subscription?.tracker.accept(frame)) this.callApp('entry', () => subscription.onEntry(frame));
        return;
      }
      case 'live':
        return this.callApp('live', () => this.joined(frame.channel)?.options.onLive?.(frame));
      case 'unsubscribed':
        return;
      case 'ack':
      case 'pong':
        this.requests.answer(frame as Answer);
        return;
      case 'error':
        return this.onError(frame);
    }
  }

  private onWelcome(socket: WebSocketLike, welcome: WelcomeFrame): void {
    this.welcome = welcome;
    this.attempt = 0;
    this.startWatchdog(socket, welcome.heartbeatSeconds * 1000);
    this.emit('open', welcome);
    for (const [channel, subscription] of this.subscriptions) this.sendSubscribe(channel, subscription);
    this.flushRequests();
  }

  private onError(frame: ErrorFrame): void {
    if (this.requests.answer(frame)) return;
    const error = new SigcastClientError(frame.code, frame.message, frame.details, frame.channel);
    // By request id: an invalid subscribe frame is answered without its channel.
    const found = frame.id === undefined ? undefined : [...this.subscriptions].find(([, candidate]) => candidate.requestId === frame.id);
    if (!found) return this.emit('error', error);
    const [channel, subscription] = found;
    if (TRANSIENT_SUBSCRIBE_ERRORS.has(frame.code)) {
      // The channel's history could not be read right now: ask again on this socket a bit later.
      subscription.requestId = undefined;
      const socket = this.socket;
      setTimeout(() => {
        if (this.socket === socket && this.welcome && this.subscriptions.get(channel) === subscription) this.sendSubscribe(channel, subscription);
      }, backoffDelay(2, ...this.backoff()));
      return this.emit('error', error);
    }
    this.subscriptions.delete(channel);
    this.callApp('error', () => subscription.options.onError?.(error));
    this.emit('error', error);
  }

  private onSocketClosed(code: number, reason: string): void {
    const socket = this.socket!;
    this.socket = undefined;
    this.welcome = undefined;
    clearInterval(this.watchdog);
    this.requests.failSentOn(socket, new SigcastClientError('connection_closed', `the connection closed (${code} ${reason}) before the answer`));
    for (const subscription of this.subscriptions.values()) {
      subscription.requestId = undefined;
      subscription.joined = false;
    }
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

  /**
   * The server pings silent clients, but browsers cannot see WebSocket pings: an app-level ping
   * when nothing arrived for half the heartbeat, and a drop when nothing arrived for all of it,
   * catch a connection that died without a close (e.g. a laptop that slept).
   */
  private startWatchdog(socket: WebSocketLike, heartbeatMs: number): void {
    clearInterval(this.watchdog);
    this.lastFrameAt = now();
    this.watchdog = setInterval(() => {
      const silentMs = now() - this.lastFrameAt;
      if (silentMs >= heartbeatMs) {
        this.onSocketClosed(CLIENT_HEARTBEAT_CLOSE, 'no frame from the server within the heartbeat');
        return socket.close(CLIENT_HEARTBEAT_CLOSE, 'heartbeat timeout');
      }
      if (silentMs >= heartbeatMs / 2) this.send({ op: 'ping' });
    }, heartbeatMs / 4);
  }

  private sendSubscribe(channel: string, subscription: Subscription): void {
    subscription.requestId = `s${this.nextSubscribeId++}`;
    subscription.joined = false;
    this.send({ op: 'subscribe', id: subscription.requestId, channel, ...subscription.tracker.request() });
  }

  private flushRequests(): void {
    const socket = this.socket;
    if (!socket || !this.welcome) return;
    for (const frame of this.requests.takeUnsent(socket)) this.send(frame);
  }

  private send(frame: ClientFrame): void {
    try {
      this.socket?.send(encodeClientFrame(frame, this.encoding));
    } catch (error) {
      this.emit('error', new SigcastClientError('socket_error', `send failed: ${describe(error)}`));
    }
  }

  private joined(channel: string): Subscription | undefined {
    const subscription = this.subscriptions.get(channel);
    return subscription?.joined ? subscription : undefined;
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

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
