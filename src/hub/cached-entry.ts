import { encodeSharedFrame, type Encoding, type WireFrame } from '../protocol/codec.js';
import type { Entry } from '../signal/schema.js';

/** An entry with its wire frames, each encoded at most once per encoding and shared by every subscriber. */
export class CachedEntry {
  private json: WireFrame | undefined;
  private msgpack: WireFrame | undefined;

  constructor(readonly entry: Entry) {}

  get seq(): number {
    return this.entry.seq;
  }

  frame(encoding: Encoding): WireFrame {
    if (encoding === 'json') return (this.json ??= encodeSharedFrame({ type: 'entry', ...this.entry }, 'json'));
    return (this.msgpack ??= encodeSharedFrame({ type: 'entry', ...this.entry }, 'msgpack'));
  }
}
