// buildDataFrame writes WebSocket frames by hand (RFC 6455 §5.2), so each length class is pinned
// byte by byte, and the frames are then read by a real `ws` client over a real socket: what it
// accepts as a valid frame is what every subscriber of the ws transport will accept.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireFrame } from '../../src/protocol/encoding.js';
import { buildDataFrame } from '../../src/transport/ws-frame.js';

const FIN_TEXT = 0x81;
const FIN_BINARY = 0x82;

/** Bytes 0, 1, 2, ... (mod 251, so no run lines up with a power of two). */
const bytes = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => i % 251);
const ascii = (length: number): string => 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(length / 26)).slice(0, length);

/** The length field as the RFC writes it: 7 bits, 126 + 16 bits, or 127 + 64 bits (big-endian). */
function expectedHeader(first: number, length: number): number[] {
  if (length < 126) return [first, length];
  if (length < 65_536) return [first, 126, length >> 8, length & 0xff];
  const big = Buffer.alloc(8);
  big.writeBigUInt64BE(BigInt(length));
  return [first, 127, ...big];
}

function payloadBytes(frame: WireFrame): Buffer {
  return typeof frame.payload === 'string' ? Buffer.from(frame.payload, 'utf8') : Buffer.from(frame.payload);
}

// Every length class with both of its ends: <126 (0, 1, 125), 126..65535, >65535.
const LENGTHS = [0, 1, 125, 126, 127, 1000, 65_535, 65_536, 200_000];

const CASES: Array<{ name: string; frame: WireFrame; first: number }> = [
  ...LENGTHS.map((length) => ({ name: `text string, ${length} bytes`, frame: { payload: ascii(length), binary: false }, first: FIN_TEXT })),
  ...LENGTHS.map((length) => ({ name: `text as UTF-8 bytes, ${length} bytes`, frame: { payload: Buffer.from(ascii(length)), binary: false }, first: FIN_TEXT })),
  ...LENGTHS.map((length) => ({ name: `binary, ${length} bytes`, frame: { payload: bytes(length), binary: true }, first: FIN_BINARY })),
  // 63 characters but 126 bytes: the length field counts bytes, so this is a 16-bit length.
  { name: 'text with 2-byte characters across the 7-bit limit', frame: { payload: 'é'.repeat(63), binary: false }, first: FIN_TEXT },
  // 21846 characters of 3 bytes each: 65538 bytes, a 64-bit length.
  { name: 'text with 3-byte characters across the 16-bit limit', frame: { payload: '€'.repeat(21_846), binary: false }, first: FIN_TEXT },
  // A view into a larger buffer: only the view's bytes are the payload.
  { name: 'binary view with an offset', frame: { payload: bytes(400).subarray(130, 330), binary: true }, first: FIN_BINARY },
];

describe('buildDataFrame', () => {
  it.each(CASES)('$name: FIN, opcode and length exactly, then the payload, nothing more', ({ frame, first }) => {
    const payload = payloadBytes(frame);
    const header = expectedHeader(first, payload.length);
    const built = buildDataFrame(frame);
    expect([...built.subarray(0, header.length)]).toEqual(header);
    expect(built.length).toBe(header.length + payload.length);
    expect(built.subarray(header.length).equals(payload)).toBe(true);
  });

  it('never masks a server frame, never sets RSV bits (no compression)', () => {
    for (const { frame } of CASES) {
      const built = buildDataFrame(frame);
      expect(built[0]! & 0x70).toBe(0);
      expect(built[1]! & 0x80).toBe(0);
    }
  });
});

describe('buildDataFrame read by a real ws client', () => {
  let server: Server | undefined;
  let client: WebSocket | undefined;
  afterEach(async () => {
    client?.terminate();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('receives every frame whole, in order, as text or binary as built', async () => {
    // A bare HTTP server that completes the upgrade by hand and then writes only our bytes.
    const errors: Error[] = [];
    server = createServer();
    server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
      socket.on('error', (error) => errors.push(error));
      socket.write(upgradeResponse(request));
      socket.end(Buffer.concat(CASES.map(({ frame }) => buildDataFrame(frame))));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    client = new WebSocket(`ws://127.0.0.1:${port}/`);
    client.on('error', (error) => errors.push(error));
    client.on('message', (data, isBinary) => received.push({ data: data as Buffer, isBinary }));
    // ws closes with 1006 when the TCP stream ends after the frames; an invalid frame would instead
    // surface as an 'error' (and a 1002 close) before all messages arrived.
    await new Promise<void>((resolve) => client!.once('close', () => resolve()));

    expect(errors).toEqual([]);
    expect(received.map(({ isBinary }) => isBinary)).toEqual(CASES.map(({ frame }) => frame.binary));
    received.forEach(({ data }, i) => {
      const expected = payloadBytes(CASES[i]!.frame);
      expect(data.length, CASES[i]!.name).toBe(expected.length);
      expect(data.equals(expected), CASES[i]!.name).toBe(true);
    });
  });
});

function upgradeResponse(request: IncomingMessage): string {
  const key = request.headers['sec-websocket-key'] ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}
