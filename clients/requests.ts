import type { AckFrame, ClientFrame, ErrorFrame, ServerFrame } from '../src/protocol/frames.js';
import { SigcastClientError } from './events.js';
import type { WebSocketLike } from './wire.js';

/** A frame that answers a request: `ack` (publish), `pong` (ping) or `error`. */
export type Answer = AckFrame | Extract<ServerFrame, { type: 'pong' }> | ErrorFrame;

interface Pending {
  readonly frame: ClientFrame;
  /** The socket the frame went out on; undefined while it waits for a connection. */
  sentOn: WebSocketLike | undefined;
  answer(frame: Answer): void;
  fail(error: SigcastClientError): void;
}

/**
 * Publish and ping requests waiting for their answer, by request id. A request made while
 * disconnected waits (up to its timeout) and is sent once the next connection is up; one that
 * was sent on a socket that closed fails, since nobody can tell whether the server acted on it.
 */
export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();

  /** Registers a request; `build` makes its frame from the id; `settle` turns the answer into the result. */
  add<T>(prefix: string, build: (id: string) => ClientFrame, settle: (frame: Answer) => T, timeoutMs: number): { id: string; promise: Promise<T> } {
    const id = `${prefix}${this.nextId++}`;
    const promise = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, new SigcastClientError('timeout', `no answer to request ${id} within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(id);
      };
      this.pending.set(id, {
        frame: build(id),
        sentOn: undefined,
        answer: (frame) => {
          done();
          if (frame.type === 'error') reject(new SigcastClientError(frame.code, frame.message, frame.details, frame.channel));
          else resolve(settle(frame));
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
    return { id, promise };
  }

  /** Frames not sent yet, oldest first; marks them as sent on `socket`. */
  takeUnsent(socket: WebSocketLike): ClientFrame[] {
    const frames: ClientFrame[] = [];
    for (const request of this.pending.values()) {
      if (request.sentOn !== undefined) continue;
      request.sentOn = socket;
      frames.push(request.frame);
    }
    return frames;
  }

  /** Routes an answer; false when no request has this id. */
  answer(frame: Answer): boolean {
    const request = frame.id === undefined ? undefined : this.pending.get(String(frame.id));
    if (!request) return false;
    request.answer(frame);
    return true;
  }

  has(id: string | number | undefined): boolean {
    return id !== undefined && this.pending.has(String(id));
  }

  /** A socket closed: its requests fail; requests still waiting for a connection keep waiting. */
  failSentOn(socket: WebSocketLike, error: SigcastClientError): void {
    for (const [id, request] of this.pending) if (request.sentOn === socket) this.fail(id, error);
  }

  failAll(error: SigcastClientError): void {
    for (const id of [...this.pending.keys()]) this.fail(id, error);
  }

  private fail(id: string, error: SigcastClientError): void {
    this.pending.get(id)?.fail(error);
  }
}
