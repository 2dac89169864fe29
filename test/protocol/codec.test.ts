import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { SigcastError } from '../../src/errors.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof SigcastError ? error.code : 'other';
  }
  return 'none';
};

describe('codec', () => {
  it('round-trips frames in both encodings', () => {
    const frame = { op: 'subscribe', channel: 'BTCUSDT', since: 5, epoch: 'e' };
    const json = encodeFrame(frame, 'json');
    const msgpack = encodeFrame(frame, 'msgpack');
    expect(json.binary).toBe(false);
    expect(msgpack.binary).toBe(true);
    expect(decodeFrame(new TextEncoder().encode(json.payload as string), false, 'json')).toEqual(frame);
    expect(decodeFrame(msgpack.payload as Uint8Array, true, 'msgpack')).toEqual(frame);
  });

  it('rejects a frame of the other kind, malformed bytes and invalid UTF-8 with stable codes', () => {
    const msgpack = encodeFrame({ op: 'ping' }, 'msgpack').payload as Uint8Array;
    expect(codeOf(() => decodeFrame(msgpack, true, 'json'))).toBe('wrong_encoding');
    expect(codeOf(() => decodeFrame(new TextEncoder().encode('{}'), false, 'msgpack'))).toBe('wrong_encoding');
    expect(codeOf(() => decodeFrame(new TextEncoder().encode('{nope'), false, 'json'))).toBe('bad_json');
    expect(codeOf(() => decodeFrame(new Uint8Array([0xff, 0xfe]), false, 'json'))).toBe('bad_json');
    expect(codeOf(() => decodeFrame(new Uint8Array([0x92, 0x01]), true, 'msgpack'))).toBe('bad_msgpack');
    expect(codeOf(() => decodeFrame(new Uint8Array([0x91, 0xc1]), true, 'msgpack'))).toBe('bad_msgpack');
  });
});
