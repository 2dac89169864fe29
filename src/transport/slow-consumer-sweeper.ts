/**
 * Finds sockets whose send buffer grew past the limit and hands them over to be closed.
 * Topic fan-out writes to every socket without asking, so the check runs on a short timer,
 * and only after something was published (an idle server does no work).
 */
export interface Buffered {
  readonly closed: boolean;
  bufferedAmount(): number;
}

export const SWEEP_INTERVAL_MS = 50;

export class SlowConsumerSweeper<C extends Buffered> {
  private timer: NodeJS.Timeout | undefined;
  private published = false;

  constructor(
    private readonly connections: Iterable<C>,
    private readonly limitBytes: number,
    private readonly onSlow: (connection: C) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  notePublish(): void {
    this.published = true;
  }

  /** Checks every socket once; returns how many were found slow. */
  sweep(): number {
    if (!this.published) return 0;
    this.published = false;
    const slow: C[] = [];
    for (const connection of this.connections) {
      if (!connection.closed && connection.bufferedAmount() > this.limitBytes) slow.push(connection);
    }
    for (const connection of slow) this.onSlow(connection);
    // Still-buffered sockets keep the sweeper checking until they drain or are closed.
    if (slow.length === 0) this.published = this.anyBuffered();
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
