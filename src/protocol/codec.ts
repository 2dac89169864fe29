import { C1, Packr } from 'msgpackr';
import { SigcastError } from '../errors.js';

/**
 * Pure encode/decode of protocol frames. JSON connections use text frames, msgpack connections
 * binary frames; msgpack maps (not msgpackr records) so any msgpack library can read them.
 */
export type Encoding = 'json' | 'msgpack';
export const ENCODINGS: readonly Encoding[] = ['json', 'msgpack'];

/**
 * What a transport writes: a text frame (JSON) or a binary frame (msgpack). A JSON payload may be
 * pre-encoded UTF-8 bytes: frames sent many times (replay) are then never re-encoded per send.
 */
export interface WireFrame {
  readonly payload: string | Uint8Array;
  readonly binary: boolean;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function encodeFrame(frame: unknown, encoding: Encoding): WireFrame {
  return encoding === 'json' ? { payload: JSON.stringify(frame), binary: false } : { payload: packr.pack(frame), binary: true };
}

/** Decodes an incoming frame; throws SigcastError with a stable code on malformed bytes. */
export function decodeFrame(data: ArrayBuffer | Uint8Array, isBinary: boolean, encoding: Encoding): unknown {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (isBinary !== (encoding === 'msgpack')) {
    throw new SigcastError(
      'wrong_encoding',
      encoding === 'json' ? 'this connection speaks JSON: send text frames' : 'this connection speaks msgpack: send binary frames',
    );
  }
  return encoding === 'json' ? decodeJson(bytes) : decodeMsgpack(bytes);
}

export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(textDecoder.decode(bytes));
  } catch (error) {
    throw new SigcastError('bad_json', `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function decodeMsgpack(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new SigcastError('bad_msgpack', `not valid msgpack: ${error instanceof Error ? error.message : String(error)}`);
  }
  // 0xC1 is "never used" in msgpack; msgpackr decodes it to a marker instead of failing.
  if (containsNeverUsed(value, 0)) throw new SigcastError('bad_msgpack', 'not valid msgpack: reserved byte 0xc1');
  return value;
}

function containsNeverUsed(value: unknown, depth: number): boolean {
  if (value === C1) return true;
  if (depth > 8 || typeof value !== 'object' || value === null) return false;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => containsNeverUsed(child, depth + 1));
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
