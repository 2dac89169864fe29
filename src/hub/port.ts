// What the hub needs from the layer above it, stated here so that hub/ imports nothing from
// transport/: a subscriber's connection, and a fan-out that writes frames to every member of a
// topic. Transports satisfy both structurally. Topic names are the hub's own business.
import { ENCODINGS, type Encoding, type WireFrame } from '../protocol/encoding.js';

export interface SubscriberPort {
  readonly encoding: Encoding;
  readonly closed: boolean;
  /** Its reader is known to be further behind than MAX_LAG_MS (and skipping ahead) until it catches up. */
  readonly lagging: boolean;
  /** Runs `fn` with this connection's writes batched into as few syscalls as possible. */
  cork(fn: () => void): void;
  /** Writes one frame. Returns false if the connection is closed. */
  send(frame: WireFrame): boolean;
  /** Joins a fan-out topic: every later `FanOut.publish` to it reaches this connection. */
  join(topic: string): void;
  leave(topic: string): void;
  /** Bytes written to this connection that the peer has not taken yet. */
  bufferedAmount(): number;
  /**
   * Calls `fn` once, when the send buffer drained (some or all of it: check bufferedAmount()).
   * Only when something is buffered; never after the connection closed.
   */
  onDrain(fn: () => void): void;
}

export interface FanOut {
  /**
   * Writes frames, in order, to every connection that joined `topic`, each frame built once for
   * all of them; the frames of one call may leave in one write per connection.
   */
  publish(topic: string, frames: readonly WireFrame[]): void;
}

/**
 * The topic of a channel for one encoding, and for a conflated feed its interval (ms): the
 * subscribers of a topic share pre-encoded frames. `@` is outside the channel alphabet.
 */
export function topicOf(channel: string, encoding: Encoding, conflateMs?: number): string {
  const topic = ENCODINGS[encoding].topicPrefix + channel;
  return conflateMs === undefined ? topic : `${topic}@${conflateMs}`;
}

/** The topic of the subscribers of a channel that take `entries` frames (`batch`); `+` is outside the channel alphabet too. */
export function batchedTopicOf(channel: string, encoding: Encoding): string {
  return `${ENCODINGS[encoding].topicPrefix}${channel}+`;
}
