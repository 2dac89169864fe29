// The /v1 protocol of one connection: decodes and validates each frame, then subscribes,
// unsubscribes, publishes or answers pings. Bad frames get an error frame; the connection stays usable.
// Each subscribe and publish is checked against the connection's principal, per channel; an
// `auth` frame replaces the principal, and a credential that expires ends the connection (4401).
import { performance } from 'node:perf_hooks';
import { maySubscribe, type Principal } from '../auth/principal.js';
import { ALL_SCOPES, formatScope } from '../auth/scope.js';
import { asSigcastError, CLOSE, SigcastError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { HubSubscription } from '../hub/subscription.js';
import type { Publisher } from '../ingest/publisher.js';
import { frameRequestId } from '../ingest/request-id.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import type { WireFrame } from '../protocol/encoding.js';
import { SERVER_FEATURES, type AuthedFrame, type ErrorFrame, type RequestId, type SubscribeFrame, type WelcomeFrame } from '../protocol/frames.js';
import { parseClientFrame, requestIdOf } from '../protocol/parse-client-frame.js';
import type { Connection, Session } from '../transport/transport.js';

export interface SessionContext {
  hub: Hub;
  publisher: Publisher;
  log: Logger;
  metrics: Metrics;
  nodeId: string;
  limits: { maxFrameBytes: number; maxSubscriptions: number; maxBatch: number };
  heartbeatSeconds: number;
}

/** Who the connection acts as, and how an `auth` frame's token is checked (as at the upgrade). */
export interface SessionAuth {
  principal: Principal;
  verify(token: string): Promise<Principal>;
  /** The publish-rate key of a principal on this connection (anonymous ones are told apart by address). */
  rateKey(principal: Principal): string;
}

/** Without auth: the anonymous principal that may do everything, as before auth existed. */
const OPEN_ACCESS: SessionAuth = {
  principal: { id: 'anonymous', kind: 'anonymous', scopes: ALL_SCOPES },
  verify: () => Promise.reject(new SigcastError('unauthorized', 'this node has no auth configured')),
  rateKey: (principal) => principal.id,
};

/** setTimeout's longest delay; later expiries are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ProtocolSession implements Session {
  /** One hub membership per subscribed channel; its unsubscribe() is the only way out. */
  private readonly subscriptions = new Map<string, HubSubscription>();
  private outbox: WireFrame[] = [];
  private principal: Principal;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly context: SessionContext,
    private readonly auth: SessionAuth = OPEN_ACCESS,
  ) {
    this.principal = auth.principal;
    const welcome: WelcomeFrame = {
      type: 'welcome',
      version: 1,
      node: context.nodeId,
      encoding: connection.encoding,
      heartbeatSeconds: context.heartbeatSeconds,
      limits: context.limits,
      principal: this.principal.id,
      features: [...SERVER_FEATURES],
    };
    this.send(welcome);
    this.watchExpiry();
  }

  onMessage(data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    let raw: unknown;
    let frame;
    try {
      raw = decodeFrame(data, isBinary, this.connection.encoding);
      frame = parseClientFrame(raw);
    } catch (error) {
      return this.sendError(error, requestIdOf(raw));
    }
    switch (frame.op) {
      case 'subscribe':
        return this.subscribe(frame);
      case 'unsubscribe':
        return this.unsubscribe(frame.channel, frame.id);
      case 'publish':
        return void this.publish(frame.id, frame.signals);
      case 'ping':
        return this.send({ type: 'pong', ...(frame.id !== undefined ? { id: frame.id } : {}), ts: Date.now() });
      case 'auth':
        return void this.authenticate(frame.token, frame.id);
    }
  }

  /**
   * The reader is further behind than MAX_LAG_MS. A connection whose every feed is conflated
   * skips ahead (each feed sends the newest entry once it caught up); any exact feed means it must
   * be closed, to resume from its position.
   */
  onLagging(): boolean {
    const subscriptions = [...this.subscriptions.values()];
    if (subscriptions.length === 0 || subscriptions.some((subscription) => subscription.conflate === undefined)) return false;
    for (const subscription of subscriptions) subscription.skipAhead();
    return true;
  }

  onClose(): void {
    clearTimeout(this.expiryTimer);
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    for (const subscription of subscriptions) subscription.unsubscribe();
  }

  private subscribe(frame: SubscribeFrame): void {
    const { channel, id } = frame;
    if (!maySubscribe(this.principal, channel)) {
      return this.sendError(new SigcastError('forbidden', `not allowed to subscribe to ${JSON.stringify(channel)}`), id, channel);
    }
    if (this.subscriptions.has(channel)) return this.sendError(new SigcastError('already_subscribed'), id, channel);
    if (this.subscriptions.size >= this.context.limits.maxSubscriptions) {
      return this.sendError(
        new SigcastError('too_many_subscriptions', `at most ${this.context.limits.maxSubscriptions} subscriptions per connection`),
        id,
        channel,
      );
    }
    const subscription = this.context.hub.subscribe(this.connection, frame);
    this.subscriptions.set(channel, subscription);
    subscription.joined.catch((error: unknown) => {
      if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
      this.sendError(error, id, channel);
    });
  }

  private unsubscribe(channel: string, id: RequestId | undefined): void {
    const subscription = this.subscriptions.get(channel);
    if (!subscription) return this.sendError(new SigcastError('not_subscribed'), id, channel);
    this.subscriptions.delete(channel);
    subscription.unsubscribe();
    this.send({ type: 'unsubscribed', ...(id !== undefined ? { id } : {}), channel });
  }

  private async publish(id: RequestId, signals: unknown): Promise<void> {
    const origin = { via: 'ws', encoding: this.connection.encoding, requestId: frameRequestId(this.connection.id, id), receivedAt: performance.now() } as const;
    try {
      const principal = this.principal;
      const entries = await this.context.publisher.publish(signals, origin, { principal, rateKey: this.auth.rateKey(principal) });
      this.sendSoon({ type: 'ack', id, entries });
    } catch (error) {
      this.sendError(error, id, undefined, origin.requestId);
    }
  }

  /**
   * Replaces the principal with the token's. Subscriptions the new scopes no longer allow end
   * (each with a `forbidden` error naming its channel); a refused token changes nothing.
   */
  private async authenticate(token: string, id: RequestId | undefined): Promise<void> {
    let principal: Principal;
    try {
      principal = await this.auth.verify(token);
    } catch (error) {
      return this.sendError(error, id);
    }
    if (this.connection.closed) return;
    this.principal = principal;
    this.watchExpiry();
    const authed: AuthedFrame = {
      type: 'authed',
      ...(id !== undefined ? { id } : {}),
      principal: principal.id,
      scope: formatScope(principal.scopes),
      ...(principal.expiresAt !== undefined ? { expiresAt: principal.expiresAt } : {}),
    };
    this.send(authed);
    for (const [channel, subscription] of [...this.subscriptions]) {
      if (maySubscribe(principal, channel)) continue;
      this.subscriptions.delete(channel);
      subscription.unsubscribe();
      this.sendError(new SigcastError('forbidden', `the new token does not allow subscribing to ${JSON.stringify(channel)}: unsubscribed`), undefined, channel);
    }
  }

  /** Closes the connection with 4401 when the principal's credential expires (unless refreshed first). */
  private watchExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const expiresAt = this.principal.expiresAt;
    if (expiresAt === undefined) return;
    const remaining = expiresAt - Date.now();
    if (remaining <= 0) {
      const { code, reason } = CLOSE.token_expired;
      this.context.log.info({ connection: this.connection.id, principal: this.principal.id }, 'closing a connection whose token expired');
      return this.connection.close('auth', code, reason);
    }
    this.expiryTimer = setTimeout(() => this.watchExpiry(), Math.min(remaining, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  /** Sends now, after anything still queued, so the session's own frames keep their order. */
  private send(frame: object): void {
    if (this.connection.closed) return;
    this.outbox.push(encodeFrame(frame, this.connection.encoding));
    this.flush();
  }

  /**
   * Acks are queued and written in one corked write once the promise continuations that resolved
   * them have run: the acks of concurrent publishes resolve together (one Redis reply), and each
   * write is a syscall. A next tick, not the next event-loop turn, so that no ack waits for the
   * rest of a busy turn. Clients match them by id.
   */
  private sendSoon(frame: object): void {
    if (this.connection.closed) return;
    if (this.outbox.length === 0) process.nextTick(this.flush);
    this.outbox.push(encodeFrame(frame, this.connection.encoding));
  }

  private readonly flush = (): void => {
    if (this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    if (this.connection.closed) return;
    this.connection.cork(() => {
      for (const frame of frames) this.connection.send(frame);
    });
  };

  private sendError(error: unknown, id?: RequestId, channel?: string, requestId?: string): void {
    if (!(error instanceof SigcastError)) {
      this.context.log.error({ err: error, connection: this.connection.id, ...(requestId === undefined ? {} : { reqId: requestId }) }, 'unexpected error in a session');
    }
    const known = asSigcastError(error);
    this.context.metrics.protocolErrors.inc({ code: known.code });
    const frame: ErrorFrame = {
      type: 'error',
      ...(id !== undefined ? { id } : {}),
      code: known.code,
      message: known.message,
      ...((channel ?? known.channel) !== undefined ? { channel: channel ?? known.channel } : {}),
      ...(known.details ? { details: known.details } : {}),
      ...(known.retryAfterMs !== undefined ? { retryAfterMs: known.retryAfterMs } : {}),
      ...(known.detailCount !== undefined ? { detailCount: known.detailCount } : {}),
    };
    this.send(frame);
  }
}
