import type { Entry } from './schema.js';

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

/** The entry's JSON text: as stored when known, else serialized now. */
export function entryJson(entry: Entry): string {
  return (entry as WithStoredJson)[STORED_JSON] ?? JSON.stringify(entry);
}
