// Finds sockets whose send buffer grew past the limit and hands them over to be closed.
// Topic fan-out writes to every socket without asking, so the check runs on a short timer while
// anything was written since the last one (an idle server does no work), and at once whenever
// the bytes written since the last check could carry a socket from the limit to its hard cap:
// a burst (a long replay, a large batch) then meets the documented 4008 close, never the
// library's silent drop at the hard cap.
export interface Buffered {
  readonly closed: boolean;
  bufferedAmount(): number;
}

const SWEEP_INTERVAL_MS = 50;

export class SlowConsumerSweeper<C extends Buffered> {
  private timer: NodeJS.Timeout | undefined;
  private written = false;
  private bytesSinceSweep = 0;

  /**
   * @param earlySweepBytes bytes written (to any socket) after which a sweep runs at once; below
   * the gap between the limit and the hard cap, no socket can reach the cap between two sweeps.
   */
  constructor(
    private readonly connections: Iterable<C>,
    private readonly limitBytes: number,
    private readonly earlySweepBytes: number,
    private readonly onSlow: (connection: C) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Something of `bytes` bytes is about to be written (to one socket, or once for a topic). */
  noteWrite(bytes: number): void {
    this.written = true;
    this.bytesSinceSweep += bytes;
    if (this.bytesSinceSweep > this.earlySweepBytes) this.sweep();
  }

  /** Checks every socket once; returns how many were found slow. */
  sweep(): number {
    if (!this.written) return 0;
    this.written = false;
    this.bytesSinceSweep = 0;
    const slow: C[] = [];
    for (const connection of this.connections) {
      if (!connection.closed && connection.bufferedAmount() > this.limitBytes) slow.push(connection);
    }
    for (const connection of slow) this.onSlow(connection);
    // Still-buffered sockets keep the sweeper checking until they drain or are closed.
    if (slow.length === 0) this.written = this.anyBuffered();
    return slow.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private anyBuffered(): boolean {
    for (const connection of this.connections) if (!connection.closed && connection.bufferedAmount() > 0) return true;
    return false;
  }
}
