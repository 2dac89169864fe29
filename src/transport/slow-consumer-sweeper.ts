// Finds sockets whose send buffer grew past the limit, and the largest ones while all of them
// together hold more than the node's send budget, and hands them over to be closed (4008).
// Topic fan-out writes to every socket without asking, so the check runs on a short timer while
// anything was written since the last one (an idle server does no work), and at once whenever
// the bytes written since the last check could carry a socket from the limit to its hard cap, or
// the node past its budget: a burst (a long replay, a large batch) then meets the documented 4008
// close, never the library's silent drop at the hard cap nor unbounded memory. Writes a
// connection makes itself are checked against the limit on the spot (`checkSocket`).
import { overBudget, type Held } from './send-budget.js';

export interface Buffered {
  readonly closed: boolean;
  bufferedAmount(): number;
}

/** Why a socket is handed over: its own buffer passed the limit, or the node passed its budget. */
export type SlowReason = 'limit' | 'budget';

export interface SweeperLimits {
  /** Per socket (SEND_BUFFER_BYTES). */
  limitBytes: number;
  /**
   * Bytes written to one socket after which a sweep runs at once; below the gap between the limit
   * and the hard cap, no socket can reach the cap between two sweeps.
   */
  earlySweepBytes: number;
  /** All sockets together (SEND_BUDGET_BYTES). */
  budgetBytes: number;
}

const SWEEP_INTERVAL_MS = 50;

export class SlowConsumerSweeper<C extends Buffered> {
  private timer: NodeJS.Timeout | undefined;
  private written = false;
  private bytesSinceSweep = 0;
  private fannedOutSinceSweep = 0;
  private total = 0;

  constructor(
    private readonly connections: Iterable<C>,
    private readonly limits: SweeperLimits,
    private readonly onSlow: (connection: C, reason: SlowReason) => void,
  ) {}

  /** Bytes waiting in every socket's send buffer at the last sweep. */
  get bufferedBytes(): number {
    return this.total;
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Something of `bytes` bytes is about to be written to `count` sockets (one, or a topic's). */
  noteWrite(bytes: number, count = 1): void {
    this.written = true;
    this.bytesSinceSweep += bytes;
    this.fannedOutSinceSweep += bytes * count;
    if (this.bytesSinceSweep > this.limits.earlySweepBytes || this.total + this.fannedOutSinceSweep > this.limits.budgetBytes) this.sweep();
  }

  /** After a write the connection made itself: past the limit it is handed over at once. */
  checkSocket(connection: C): void {
    if (!connection.closed && connection.bufferedAmount() > this.limits.limitBytes) this.onSlow(connection, 'limit');
  }

  /** Checks every socket once; returns how many were handed over. */
  sweep(): number {
    if (!this.written) return 0;
    this.written = false;
    this.bytesSinceSweep = 0;
    this.fannedOutSinceSweep = 0;
    const slow: C[] = [];
    const held: Array<Held<C>> = [];
    let total = 0;
    for (const connection of this.connections) {
      if (connection.closed) continue;
      const bytes = connection.bufferedAmount();
      if (bytes === 0) continue;
      if (bytes > this.limits.limitBytes) {
        slow.push(connection);
        continue;
      }
      held.push({ connection, bytes });
      total += bytes;
    }
    const { close: overSpent, remaining } = this.enforceBudget(held, total);
    this.total = remaining;
    for (const connection of slow) this.onSlow(connection, 'limit');
    for (const connection of overSpent) this.onSlow(connection, 'budget');
    // Still-buffered sockets keep the sweeper checking until they drain or are closed.
    this.written = held.length > overSpent.length;
    return slow.length + overSpent.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The node-wide budget: which of the sockets under their own limit to close, largest first. */
  private enforceBudget(held: ReadonlyArray<Held<C>>, total: number): { close: C[]; remaining: number } {
    return overBudget(held, total, this.limits.budgetBytes);
  }
}
