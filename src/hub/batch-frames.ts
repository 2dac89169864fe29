// The frames of one delivery for subscribers that asked for `batch` (pure): the entries of one
// store leave as `entries` frames of at most MAX_ENTRIES_PER_FRAME, so that a publish of ten
// signals is one WebSocket message per subscriber instead of ten. A lone entry stays an `entry`.
import { ENCODINGS, type Encoding, type WireFrame } from '../protocol/encoding.js';
import { MAX_ENTRIES_PER_FRAME } from '../protocol/frames.js';
import type { CachedEntry } from './cached-entry.js';

export function batchFrames(channel: string, entries: readonly CachedEntry[], encoding: Encoding): WireFrame[] {
  const frames: WireFrame[] = [];
  for (let start = 0; start < entries.length; start += MAX_ENTRIES_PER_FRAME) {
    const chunk = entries.slice(start, start + MAX_ENTRIES_PER_FRAME);
    frames.push(chunk.length === 1 ? chunk[0]!.frame(encoding) : ENCODINGS[encoding].encodeEntries(channel, chunk.map((cached) => cached.entry)));
  }
  return frames;
}
