/**
 * The client's side of the heartbeat. The server pings silent clients, but browsers cannot see
 * WebSocket pings: so when nothing arrived for half the heartbeat the client asks (`onQuiet`, an
 * app-level ping), and when nothing arrived for all of it the connection is taken for dead
 * (`onDead`), e.g. a laptop that slept or a peer that vanished without a close.
 */
export class Watchdog {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastHeardAt = 0;

  start(heartbeatMs: number, onQuiet: () => void, onDead: () => void): void {
    this.stop();
    this.lastHeardAt = now();
    this.timer = setInterval(() => {
      const silentMs = now() - this.lastHeardAt;
      if (silentMs >= heartbeatMs) {
        this.stop();
        onDead();
      } else if (silentMs >= heartbeatMs / 2) {
        onQuiet();
      }
    }, heartbeatMs / 4);
  }

  /** Any frame from the server counts. */
  heard(): void {
    this.lastHeardAt = now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
