import type { WireFrame } from '../protocol/encoding.js';

/**
 * Builds a complete, unmasked server-to-client WebSocket data frame (RFC 6455 §5.2) in one
 * buffer (pure). The ws transport builds each broadcast frame once with this and writes the same
 * bytes to every subscriber's socket, instead of letting `ws` re-frame the payload per socket.
 * Text for JSON (a string or its UTF-8 bytes), binary for msgpack; never fragmented, never compressed.
 */
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

export function buildDataFrame(frame: WireFrame): Buffer {
  const { payload } = frame;
  const text = typeof payload === 'string';
  const length = text ? Buffer.byteLength(payload) : payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + length);
  out[0] = FIN | (frame.binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (headerLength === 2) {
    out[1] = length;
  } else if (headerLength === 4) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    // 64-bit length: payloads here stay far below 2^48, so the upper two bytes are zero.
    out.writeUInt16BE(0, 2);
    out.writeUIntBE(length, 4, 6);
  }
  if (text) out.write(payload, headerLength, 'utf8');
  else out.set(payload, headerLength);
  return out;
}
