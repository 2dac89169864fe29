// The id that ties an ingest request to its log lines: the client's X-Request-Id when it is a
// short printable token (a proxy's or the bot's own), else a fresh one. Anything else is not
// echoed into logs, so a header cannot forge or flood log lines.
import { randomHex } from '../util/pooled-random.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:/+=@-]{1,128}$/;

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SAFE_REQUEST_ID.test(header) ? header : randomHex(8);
}

/** A WebSocket publish: the connection and the frame's own id (the client's, when printable). */
export function frameRequestId(connectionId: number, frameId: string | number): string {
  const id = String(frameId);
  return `ws${connectionId}:${SAFE_REQUEST_ID.test(id) ? id : randomHex(4)}`;
}
