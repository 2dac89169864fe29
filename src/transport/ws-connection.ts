// One client socket of the ws transport.
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Encoding, WireFrame } from '../protocol/encoding.js';
import type { Beating } from './heartbeat.js';
import { LagProbes, type Probed } from './lag-monitor.js';
import type { CloseCause, CloseInfo, Connection, Session } from './transport.js';
import { buildDataFrame } from './ws-frame.js';

/** What a connection needs from its transport: the topic map and its bookkeeping. */
export interface ConnectionOwner {
  addToTopic(topic: string, connection: WsConnection): void;
  removeFromTopic(topic: string, connection: WsConnection): void;
  /** The connection is gone: forget it and tell its session (exactly once). */
  finished(connection: WsConnection, close: CloseInfo): void;
  /** Its send buffer passed the hard cap. */
  overflowed(connection: WsConnection): void;
}

/** What the connection's writes report to: the sweeper watches the bytes written and each buffer. */
export interface WriteObserver {
  noteWrite(bytes: number): void;
  checkSocket(connection: WsConnection): void;
}

/** When the socket reports no drain (its buffer is under the write high-water mark): look again then. */
const DRAIN_POLL_MS = 10;

/**
 * A slow or lagging consumer's close frame waits behind everything it did not read, and `ws`
 * would hold the socket, and all of that, for 30 s waiting for the answer. One that read nothing
 * of it for this long is dropped; one that is still reading gets to its close frame.
 */
const STALLED_CLOSE_MS = 1000;

/** The close code of a connection dropped without a close frame. */
export const ABNORMAL_CLOSURE = 1006;

let nextConnectionId = 1;

/**
 * One client socket of the ws transport. `ws` does the handshake, reads frames, and sends
 * pings and close frames; data frames are written as ready-made bytes straight to the TCP
 * socket (see buildDataFrame), which is safe because `ws` itself only ever writes whole frames,
 * synchronously (no permessage-deflate, no fragmentation), so the two never interleave.
 */
export class WsConnection implements Connection, Beating, Probed {
  readonly id = nextConnectionId++;
  closed = false;
  session: Session | undefined;
  lastHeardAt = Date.now();
  lastPingAt = 0;
  lastDrainedBytes = 0;
  hadBacklog = false;
  readonly topics = new Set<string>();
  readonly lag = new LagProbes();
  readonly remoteAddress: string;
  private done = false;
  private drainWaiters: Array<() => void> = [];
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Socket,
    readonly encoding: Encoding,
    private readonly owner: ConnectionOwner,
    private readonly hardCapBytes: number,
    private readonly writes: WriteObserver,
  ) {
    this.remoteAddress = (raw as { remoteAddress?: string }).remoteAddress ?? '';
  }

  get lagging(): boolean {
    return this.lag.behind;
  }

  send(frame: WireFrame): boolean {
    const bytes = buildDataFrame(frame);
    this.writes.noteWrite(bytes.length);
    return this.write(bytes);
  }

  /** Writes a complete, pre-built WebSocket frame (shared by every subscriber of a publish). */
  write(frame: Buffer): boolean {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return false;
    this.lag.written = true;
    this.raw.write(frame);
    this.writes.checkSocket(this);
    if (!this.closed && this.raw.writableLength > this.hardCapBytes) this.owner.overflowed(this);
    return true;
  }

  onDrain(fn: () => void): void {
    if (this.closed) return;
    this.drainWaiters.push(fn);
    if (this.drainWaiters.length > 1) return;
    // 'drain' comes only after a write was refused (past the high-water mark); below it, poll.
    if (this.raw.writableNeedDrain) this.raw.once('drain', this.drained);
    else this.drainTimer = setTimeout(this.drained, DRAIN_POLL_MS);
  }

  private readonly drained = (): void => {
    this.raw.off('drain', this.drained);
    clearTimeout(this.drainTimer);
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    if (!this.closed) for (const fn of waiters) fn();
  };

  join(topic: string): void {
    if (this.closed || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.owner.addToTopic(topic, this);
  }

  leave(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.owner.removeFromTopic(topic, this);
  }

  cork(fn: () => void): void {
    if (this.closed) return;
    this.raw.cork();
    try {
      fn();
    } finally {
      this.raw.uncork();
    }
  }

  /** Sends a close frame (after what is buffered) and, like uWS's end(), reports the close at once. */
  close(cause: CloseCause, code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      // A code a close frame may not carry (e.g. 1006) or a reason over 123 bytes: just drop it.
      this.socket.terminate();
    }
    if (cause === 'slow_consumer' || cause === 'lag') this.dropIfStalled(this.raw.writableLength);
    this.finish({ cause, code, reason });
  }

  /** After a close frame queued behind unread data: dropped once the peer stops taking any of it. */
  private dropIfStalled(buffered: number): void {
    if (this.raw.destroyed || buffered === 0) return;
    setTimeout(() => {
      const now = this.raw.writableLength;
      if (now >= buffered) this.socket.terminate();
      else this.dropIfStalled(now);
    }, STALLED_CLOSE_MS).unref();
  }

  /** Drops the TCP connection without a close frame (the client sees 1006). */
  terminate(cause: CloseCause, reason: string): void {
    this.closed = true;
    this.socket.terminate();
    this.finish({ cause, code: ABNORMAL_CLOSURE, reason });
  }

  /** Resolves once the TCP socket is closed. */
  socketClosed(): Promise<void> {
    return new Promise((resolve) => (this.raw.destroyed ? resolve() : this.raw.once('close', () => resolve())));
  }

  ping(): void {
    if (!this.closed && this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  /** ws writes the ping to the same socket, synchronously, after the data frames written before it. */
  probe(payload: Uint8Array): void {
    if (!this.closed && this.socket.readyState === WebSocket.OPEN) this.socket.ping(payload);
  }

  /**
   * Answers a client's ping (ws's own auto-pong is off: it drops a client after 60 pongs not yet
   * flushed, where uWS answers every ping). A flood of pings from a client that does not read
   * meets the same hard cap as any other send.
   */
  pong(data: Buffer): void {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.pong(data);
    this.writes.noteWrite(data.length + 2);
    if (this.raw.writableLength > this.hardCapBytes) this.owner.overflowed(this);
  }

  /** Any byte from the client counts as a sign of life, even half a frame. */
  heard(): void {
    this.lastHeardAt = Date.now();
  }

  drainedBytes(): number {
    // Grows by what the kernel takes: bytesWritten - writableLength when a write completes, and
    // libuv's own queue (writeQueueSize) shrinking while one large write (a corked replay) goes out.
    const inLibuv = (this.raw as Socket & { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
    return this.raw.bytesWritten - this.raw.writableLength - inLibuv;
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.raw.writableLength;
  }

  /** The closing handshake is over (or the socket is gone): called from ws's 'close' event too. */
  finish(close: CloseInfo): void {
    if (this.done) return;
    this.done = true;
    this.closed = true;
    this.raw.off('drain', this.drained);
    clearTimeout(this.drainTimer);
    this.drainWaiters = [];
    for (const topic of this.topics) this.owner.removeFromTopic(topic, this);
    this.topics.clear();
    this.owner.finished(this, close);
  }
}
