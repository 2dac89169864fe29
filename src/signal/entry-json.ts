import type { Entry, Signal } from './schema.js';

/**
 * The JSON text an entry was stored as, when a broker read it as text (Redis does). Frames for
 * JSON subscribers are then spliced from that text instead of serializing the entry again.
 * Kept on the entry under a symbol, not enumerable: invisible to serializers and comparisons,
 * and cheaper for the garbage collector than a WeakMap of short-lived keys.
 */
const STORED_JSON = Symbol('storedJson');
type WithStoredJson = Entry & { [STORED_JSON]?: string };

/** Parses one stored entry and remembers its text. The text was written by sigcast's own script. */
export function parseStoredEntry(json: string): Entry {
  const entry = JSON.parse(json) as WithStoredJson;
  Object.defineProperty(entry, STORED_JSON, { value: json });
  return entry;
}

/**
 * The text the append script stores for an entry (redis-lua.ts builds it by concatenation, in
 * this field order): `signalJson` is JSON.stringify of the signal, `ts` the append's time.
 */
export function storedEntryText(channel: string, seq: number, epoch: string, ts: number, signalJson: string): string {
  return `{"channel":"${channel}","seq":${seq},"epoch":"${epoch}","ts":${ts},"signal":${signalJson}}`;
}

/**
 * The entry that parsing `storedEntryText(...)` would give, built without parsing: `signal` must
 * be what `signalJson` serializes (plain JSON values, no -0), and it is shared, not copied.
 */
export function storedEntry(channel: string, seq: number, epoch: string, ts: number, signal: Signal, signalJson: string): Entry {
  const entry: Entry = { channel, seq, epoch, ts, signal };
  Object.defineProperty(entry, STORED_JSON, { value: storedEntryText(channel, seq, epoch, ts, signalJson) });
  return entry;
}

/** The entry's JSON text: as stored when known, else serialized now. */
export function entryJson(entry: Entry): string {
  return (entry as WithStoredJson)[STORED_JSON] ?? JSON.stringify(entry);
}
