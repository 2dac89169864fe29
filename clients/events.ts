import type { ErrorDetail } from '../src/errors.js';

/** A tiny typed event emitter (no node:events, so the client runs unchanged in browsers). */
export class Emitter<Events extends { [name: string]: unknown[] }> {
  private readonly listeners: { [K in keyof Events]?: Set<(...args: Events[K]) => void> } = {};

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Calls every listener; one that throws is reported to `onListenerError` and does not stop the others. */
  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of [...(this.listeners[event] ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(error, String(event));
      }
    }
  }

  /** Subclasses decide where listener failures go (a listener must never break the emitter). */
  protected onListenerError(_error: unknown, _event: string): void {}
}

/** Codes the client itself raises, besides the server's error codes (docs/protocol.md). */
export type ClientErrorCode =
  | 'connection_closed'
  | 'client_closed'
  | 'timeout'
  | 'bad_frame'
  | 'socket_error'
  | 'listener_error'
  // The publisher's own: its queue is full; fetch could not reach the server; an answer it cannot read.
  | 'queue_full'
  | 'network_error'
  | 'bad_answer';

export type { ErrorDetail };

/** An error frame from the server, or a client-side failure; `code` is stable, `message` is for humans. */
export class SigcastClientError extends Error {
  override readonly name = 'SigcastClientError';
  constructor(
    readonly code: ClientErrorCode | (string & {}),
    message: string,
    readonly details?: ErrorDetail[],
    readonly channel?: string,
  ) {
    super(message);
  }
}
