// How many bytes a stored signal takes as JSON (what the broker keeps per entry), checked against
// MAX_SIGNAL_BYTES at ingest. Most signals are far under the limit, and a cheap upper bound from
// the string lengths proves it without encoding them; only a signal near the limit is encoded.
import type { Signal } from './schema.js';

/** JSON may spend up to 6 bytes on one UTF-16 unit (`\u0001`); UTF-8 at most 3. */
const BYTES_PER_UNIT = 6;
/**
 * Everything of a signal but its free-text parts, at its largest: field names and punctuation,
 * symbol (32) and id (64) from safe alphabets, side, and four numbers of at most 24 chars each.
 */
const FIXED_PART_BYTES = 320;
/** Quotes, colon and comma around one meta key and value, and the longest number or literal. */
const META_ITEM_OVERHEAD = 6;
const LONGEST_SCALAR = 24;

/** At least the size of `JSON.stringify(signal)` in UTF-8 bytes, from string lengths only. */
export function signalBytesUpperBound(signal: Signal): number {
  let bytes = FIXED_PART_BYTES;
  if (signal.strategy !== undefined) bytes += signal.strategy.length * BYTES_PER_UNIT;
  if (signal.meta !== undefined) {
    for (const key in signal.meta) {
      const value = signal.meta[key];
      bytes += META_ITEM_OVERHEAD + key.length * BYTES_PER_UNIT;
      bytes += typeof value === 'string' ? 2 + value.length * BYTES_PER_UNIT : LONGEST_SCALAR;
    }
  }
  return bytes;
}

/** The exact size of the signal's JSON in UTF-8 bytes. */
export function signalBytes(signal: Signal): number {
  return Buffer.byteLength(JSON.stringify(signal));
}

/** The signal's JSON size when it is over `maxBytes`, else undefined (usually without encoding it). */
export function oversizedSignalBytes(signal: Signal, maxBytes: number): number | undefined {
  if (signalBytesUpperBound(signal) <= maxBytes) return undefined;
  const bytes = signalBytes(signal);
  return bytes > maxBytes ? bytes : undefined;
}
