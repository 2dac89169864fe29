/**
 * Reads the few fields the load generator needs (channel, seq, send time) straight from a JSON
 * frame's bytes, without JSON.parse: the same cheap treatment for every system's entry frames, so
 * that the clients cost less than the servers they measure. Keys are searched as exact byte
 * strings; the bench controls the signals, so these keys occur once per frame. Numbers are parsed
 * from the bytes and channel names interned, so a frame allocates no string: each native call
 * (indexOf, toString) costs about as much as the rest of the frame's handling.
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

/** True when `data` holds `key` at `at`. */
export function keyAt(data: Buffer, key: Buffer, at: number): boolean {
  if (at < 0 || at + key.length > data.length) return false;
  for (let i = 0; i < key.length; i++) if (data[at + i] !== key[i]) return false;
  return true;
}

/**
 * Finds a key where the previous frame had it, counted from the start or from the end (frames of
 * one stream share their layout), and only searches when it is not there.
 */
export class KeyFinder {
  private fromStart = -1;
  private fromEnd = -1;

  constructor(readonly key: Buffer) {}

  /** Offset just past the key (-1 when absent); `near` is a likely position to try first. */
  find(data: Buffer, near = -1): number {
    const { key } = this;
    if (keyAt(data, key, near)) return near + key.length;
    if (keyAt(data, key, this.fromStart)) return this.fromStart + key.length;
    if (this.fromEnd > 0 && keyAt(data, key, data.length - this.fromEnd)) return data.length - this.fromEnd + key.length;
    const at = data.indexOf(key);
    if (at < 0) return -1;
    this.fromStart = at;
    this.fromEnd = data.length - at;
    return at + key.length;
  }
}

/** The JSON number at `at` (NaN when there is none), read from the bytes. */
export function numberAt(data: Buffer, at: number): number {
  let i = at;
  while (data[i] === 0x20) i++;
  const negative = data[i] === 0x2d;
  if (negative) i++;
  let value = 0;
  let digits = 0;
  let c = data[i];
  while (c !== undefined && c >= 0x30 && c <= 0x39) {
    value = value * 10 + (c - 0x30);
    digits++;
    c = data[++i];
  }
  if (c === 0x2e) {
    // The fraction apart: a send time of 13 integer digits and 4 decimals is past 2^53 as one integer.
    let fraction = 0;
    let scale = 1;
    c = data[++i];
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      fraction = fraction * 10 + (c - 0x30);
      scale *= 10;
      digits++;
      c = data[++i];
    }
    value += fraction / scale;
  }
  if (digits === 0) return Number.NaN;
  // Exponents never occur in the bench's own numbers: let the slow path get them right.
  if (c === 0x65 || c === 0x45) return slowNumber(data, at);
  return negative ? -value : value;
}

function slowNumber(data: Buffer, at: number): number {
  let end = at;
  for (;;) {
    const c = data[end];
    if (c === undefined || !((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x20)) break;
    end++;
  }
  return Number(data.toString('latin1', at, end));
}

/** The JSON number right after `key` (NaN when the key is absent). */
export function numberAfter(data: Buffer, key: Buffer): number {
  const at = data.indexOf(key);
  return at < 0 ? Number.NaN : numberAt(data, at + key.length);
}

/** End of the JSON string starting at `start` (the offset of its closing quote). */
export function stringEnd(data: Buffer, start: number): number {
  let i = start;
  while (i < data.length && data[i] !== 0x22) i++;
  return i;
}

/** The JSON string right after `key` (which ends with the opening quote); '' when absent. Interned. */
export function stringAfter(data: Buffer, key: Buffer): string {
  const at = data.indexOf(key);
  if (at < 0) return '';
  const start = at + key.length;
  return NAMES.get(data, start, stringEnd(data, start));
}

/**
 * Strings of short byte runs (channel names), one allocation per distinct name and none per
 * frame: a hash of the bytes picks the candidates, which are compared byte by byte.
 */
export interface KnownName {
  readonly bytes: Buffer;
  readonly name: string;
}

export class NameCache {
  private readonly byHash = new Map<number, KnownName[]>();
  private size = 0;

  get(data: Buffer, start: number, end: number): string {
    return this.known(data, start, end).name;
  }

  known(data: Buffer, start: number, end: number): KnownName {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (data[i] ?? 0), 0x01000193);
    const bucket = this.byHash.get(hash);
    if (bucket) {
      for (const known of bucket) if (known.bytes.length === end - start && keyAt(data, known.bytes, start)) return known;
    }
    const name = data.toString('latin1', start, end);
    // The bench has at most a few thousand channels; anything past that is a bug, not a reason to grow.
    if (this.size >= 100_000) {
      this.byHash.clear();
      this.size = 0;
    }
    const entry = { bytes: Buffer.from(data.subarray(start, end)), name };
    if (bucket) bucket.push(entry);
    else this.byHash.set(hash, [entry]);
    this.size++;
    return entry;
  }
}

export const NAMES = new NameCache();
