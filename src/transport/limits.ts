/**
 * Limits shared by both transports, so that a client sees the same behaviour on each.
 * Each soft limit is enforced by sigcast with a documented close code; the hard limit behind it
 * is where the WebSocket library gives up on its own (it does not read or buffer any further).
 */

/**
 * Frames up to this size are read, then closed with 1009 'frame too large' when over
 * MAX_FRAME_BYTES; larger ones are refused by the library before being buffered.
 */
export function frameHardLimit(maxFrameBytes: number): number {
  return maxFrameBytes * 2;
}

/** Slack past the slow-consumer limit that covers what one sweep interval of a burst can add. */
const SEND_BUFFER_SLACK_BYTES = 4 * 1024 * 1024;

/**
 * Send-buffer bytes past which a socket is dropped at once (no close frame), without waiting
 * for the slow-consumer sweep. Far enough past the limit that the sweep, which closes with the
 * documented 4008, normally acts first; still a bound on the memory one socket can hold.
 */
export function sendBufferHardCap(sendBufferBytes: number): number {
  return sendBufferBytes + Math.max(sendBufferBytes, SEND_BUFFER_SLACK_BYTES);
}

/**
 * Bytes written (to any socket) after which the slow-consumer sweep runs at once: half the gap
 * between the limit and the hard cap, so no socket gets from under the limit to the cap between two sweeps.
 */
export function earlySweepBytes(sendBufferBytes: number): number {
  return Math.floor((sendBufferHardCap(sendBufferBytes) - sendBufferBytes) / 2);
}

/** What the slow-consumer sweeper checks, for both transports. */
export function sweeperLimits(options: { sendBufferBytes: number; sendBudgetBytes: number }): {
  limitBytes: number;
  earlySweepBytes: number;
  budgetBytes: number;
} {
  return { limitBytes: options.sendBufferBytes, earlySweepBytes: earlySweepBytes(options.sendBufferBytes), budgetBytes: options.sendBudgetBytes };
}

/**
 * How much of a replay is written before waiting for the socket to drain: half the send buffer,
 * between 64 KiB (more than node's write high-water mark, so the ws transport's socket reports a
 * drain) and 256 KiB (what one non-reading subscriber may hold of replays).
 */
export function replayWindowBytes(sendBufferBytes: number): number {
  return Math.min(256 * 1024, Math.max(64 * 1024, Math.floor(sendBufferBytes / 2)));
}

/** About the bytes a frame puts on the wire (UTF-16 length for text: no UTF-8 pass on the hot path). */
export function frameSize(frame: { payload: string | Uint8Array }): number {
  return typeof frame.payload === 'string' ? frame.payload.length : frame.payload.byteLength;
}

/** Heartbeats: the server pings a client silent for `heartbeatSeconds`, and drops it after twice that. */
export function heartbeatIdleSeconds(heartbeatSeconds: number): number {
  return heartbeatSeconds * 2;
}

/** Why a socket was dropped for silence: uWS's own words, so both transports report the same. */
export const HEARTBEAT_TIMEOUT_REASON = 'WebSocket timed out from inactivity';

/**
 * How long an HTTP request may take to arrive, head and body, and an idle keep-alive connection
 * may stay: uWS's fixed HTTP timeout (about 10 s), which the ws transport matches.
 */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;
