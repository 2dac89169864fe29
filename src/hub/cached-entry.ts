// An entry with its wire frames, each encoded at most once per encoding and shared by every subscriber.
import { ENCODINGS, type Encoding, type WireFrame } from '../protocol/encoding.js';
import type { Entry } from '../signal/schema.js';

export class CachedEntry {
  private readonly frames: Partial<Record<Encoding, WireFrame>> = {};

  constructor(readonly entry: Entry) {}

  get seq(): number {
    return this.entry.seq;
  }

  frame(encoding: Encoding): WireFrame {
    return (this.frames[encoding] ??= ENCODINGS[encoding].encodeEntry(this.entry));
  }
}
