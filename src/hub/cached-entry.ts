import { encodeFrame, type Encoding, type WireFrame } from '../protocol/codec.js';
import { entryJson } from '../signal/entry-json.js';
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
    // The entry's stored text with the frame type spliced in front: no second serialization.
    if (encoding === 'json') return (this.json ??= { payload: Buffer.from(`{"type":"entry",${entryJson(this.entry).slice(1)}`), binary: false });
    return (this.msgpack ??= encodeFrame({ type: 'entry', ...this.entry }, 'msgpack'));
  }
}
