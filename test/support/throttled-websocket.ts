import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../clients/sigcast-client.js';

export interface Throttle {
  /** Bytes the reader takes in per tick, on average (reads come in chunks of up to 64 KiB: the debt carries over). */
  bytesPerTick: number;
  tickMs: number;
  /** Reads only during this long at the start of each tick (a reader busy with something else the rest of the time). */
  readMs?: number;
}

/**
 * A `ws` WebSocket (for the project's client) that reads its TCP socket only as `throttle` allows:
 * a reader that falls behind a fast channel, the way a busy browser tab or a thin link does. It
 * pauses the socket (nothing is lost), so the server's buffers fill and its pings wait behind the
 * data, as they would.
 */
export function throttledWebSocket(throttle: Throttle): WebSocketConstructor {
  const { bytesPerTick, tickMs, readMs } = throttle;
  return class ThrottledWebSocket extends WebSocket {
    private unthrottle: (() => void) | undefined;

    constructor(url: string) {
      super(url);
      this.once('open', () => {
        const raw = (this as unknown as { _socket: Duplex })._socket;
        let budget = bytesPerTick;
        const onData = (chunk: Buffer): void => {
          budget -= chunk.length;
          if (budget <= 0) raw.pause();
        };
        raw.on('data', onData);
        const timer = setInterval(() => {
          budget = Math.min(bytesPerTick, budget + bytesPerTick);
          if (budget <= 0) return;
          raw.resume();
          if (readMs !== undefined) setTimeout(() => raw.pause(), readMs);
        }, tickMs);
        this.unthrottle = () => {
          clearInterval(timer);
          raw.off('data', onData);
          raw.resume();
        };
        this.once('close', this.unthrottle);
      });
    }

    /** A reader that closes reads the rest at full speed, so that the closing handshake ends. */
    override close(code?: number, reason?: string | Buffer): void {
      this.unthrottle?.();
      super.close(code, reason);
    }
  };
}
