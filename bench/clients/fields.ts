/**
 * Reads the few fields the load generator needs (channel, seq, send time) straight from a JSON
 * frame's bytes, without JSON.parse: the same cheap treatment for every system's entry frames, so
 * that the clients can keep up with the servers. Keys are searched as exact byte strings; the
 * bench controls the signals, so these keys occur once per frame.
 */
export const KEY = {
  channel: Buffer.from('"channel":"'),
  seq: Buffer.from('"seq":'),
  epoch: Buffer.from('"epoch":"'),
  n: Buffer.from('"n":'),
  sent: Buffer.from('"sent":'),
  /** Inside Pusher's string-encoded `data`. */
  escapedN: Buffer.from('\\"n\\":'),
  escapedSent: Buffer.from('\\"sent\\":'),
  typeEntry: Buffer.from('"type":"entry"'),
} as const;

/** The JSON number right after `key` (NaN when the key is absent). */
export function numberAfter(data: Buffer, key: Buffer): number {
  const at = data.indexOf(key);
  if (at < 0) return Number.NaN;
  let start = at + key.length;
  while (data[start] === 0x20) start++;
  let end = start;
  for (;;) {
    const c = data[end];
    // digits, '-', '+', '.', 'e', 'E'
    if (c === undefined || !((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)) break;
    end++;
  }
  return Number(data.toString('latin1', start, end));
}

/** The JSON string right after `key` (which ends with the opening quote); '' when absent. */
export function stringAfter(data: Buffer, key: Buffer): string {
  const at = data.indexOf(key);
  if (at < 0) return '';
  const start = at + key.length;
  const end = data.indexOf(0x22, start);
  return data.toString('latin1', start, end < 0 ? data.length : end);
}
