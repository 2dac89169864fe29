// Pure encode/decode of protocol frames over the encoding registry.
import { SigcastError } from '../errors.js';
import { ENCODINGS, type Encoding, type WireFrame } from './encoding.js';

export function encodeFrame(frame: unknown, encoding: Encoding): WireFrame {
  return ENCODINGS[encoding].encode(frame);
}

/** Decodes an incoming frame; throws SigcastError with a stable code on malformed bytes. */
export function decodeFrame(data: ArrayBuffer | Uint8Array, isBinary: boolean, encoding: Encoding): unknown {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const spec = ENCODINGS[encoding];
  if (isBinary !== spec.binary) {
    throw new SigcastError('wrong_encoding', `this connection speaks ${encoding}: send ${spec.binary ? 'binary' : 'text'} frames`);
  }
  return spec.decode(bytes);
}
