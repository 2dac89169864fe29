import type { Entry } from './schema.js';

/**
 * The JSON text an entry was stored as, when a broker read it as text (Redis does). Frames for
 * JSON subscribers are then spliced from that text instead of serializing the entry again.
 */
const storedJson = new WeakMap<Entry, string>();

/** Parses one stored entry and remembers its text. The text was written by sigcast's own script. */
export function parseStoredEntry(json: string): Entry {
  const entry = JSON.parse(json) as Entry;
  storedJson.set(entry, json);
  return entry;
}

/** The entry's JSON text: as stored when known, else serialized now. */
export function entryJson(entry: Entry): string {
  return storedJson.get(entry) ?? JSON.stringify(entry);
}
