/**
 * Heartbeats for the ws transport, with uWS's semantics (idleTimeout + sendPingsAutomatically):
 * a client that sent nothing (not a byte: no frame, no pong, no ping) for `heartbeatSeconds` gets
 * a ping, and another each `heartbeatSeconds` while it stays silent; one silent for twice that is
 * dropped without a close frame. A client that is reading is not silent either: while a backlog
 * in its send buffer drains (a long replay), the ping waits behind it and cannot be answered yet,
 * and uWS too counts a drain as activity. (Bytes the kernel takes while nothing waits prove
 * nothing: the kernel takes them from a dead client as well.) One timer for all sockets, so an
 * idle server does O(sockets) work per tick.
 */
export interface Beating {
  readonly closed: boolean;
  /** Date.now() of the last byte received from the client, or of send progress seen by a tick. */
  lastHeardAt: number;
  lastPingAt: number;
  /** Bytes of this socket's sends that the kernel has taken so far. */
  drainedBytes(): number;
  /** Bytes waiting in this socket's send buffer. */
  bufferedAmount(): number;
  /** drainedBytes() and whether anything waited, at the last tick. */
  lastDrainedBytes: number;
  hadBacklog: boolean;
  ping(): void;
}

/** Ticks per heartbeat period: pings and drops happen at most a quarter period late. */
const TICKS_PER_PERIOD = 4;
const MIN_TICK_MS = 100;

export class Heartbeat<C extends Beating> {
  private timer: NodeJS.Timeout | undefined;
  private readonly periodMs: number;

  constructor(
    private readonly connections: Iterable<C>,
    heartbeatSeconds: number,
    private readonly onTimeout: (connection: C) => void,
  ) {
    this.periodMs = heartbeatSeconds * 1000;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(Date.now()), Math.max(MIN_TICK_MS, this.periodMs / TICKS_PER_PERIOD));
    this.timer.unref();
  }

  /** Pings the silent, drops the dead; returns how many were dropped. */
  tick(now: number): number {
    const dead: C[] = [];
    for (const connection of this.connections) {
      if (connection.closed) continue;
      const drained = connection.drainedBytes();
      if (connection.hadBacklog && drained > connection.lastDrainedBytes) connection.lastHeardAt = Math.max(connection.lastHeardAt, now);
      connection.lastDrainedBytes = drained;
      connection.hadBacklog = connection.bufferedAmount() > 0;
      const silentMs = now - connection.lastHeardAt;
      if (silentMs >= 2 * this.periodMs) dead.push(connection);
      else if (silentMs >= this.periodMs && now - connection.lastPingAt >= this.periodMs) {
        connection.lastPingAt = now;
        connection.ping();
      }
    }
    // Dropped after the loop: dropping removes a connection from the set being iterated.
    for (const connection of dead) this.onTimeout(connection);
    return dead.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
