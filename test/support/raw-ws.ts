// A WebSocket client over a bare TCP socket, for tests that must send what no library sends:
// unmasked frames, reserved opcodes, RSV bits, broken fragment sequences, invalid UTF-8, bad close
// codes. It records every server frame and how the connection ended (the close code of the
// server's close frame, or 1006 when the TCP connection ended without one).
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { waitFor } from './wait.js';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** RSV1..RSV3 as bits 0b100, 0b010, 0b001. */
  rsv?: number;
  /** Clients must mask; false sends the frame unmasked. */
  mask?: boolean;
}

/** One client frame as bytes (RFC 6455 section 5.2), masked unless asked otherwise (pure but for the random mask). */
export function clientFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : Buffer.from(spec.payload ?? new Uint8Array(0));
  const masked = spec.mask ?? true;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  head[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + lengthBytes);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([head, body]);
}

/** The payload of a close frame: a code and a reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

export interface ServerFrame {
  opcode: number;
  fin: boolean;
  payload: Buffer;
}

export interface Ended {
  /** The code of the server's close frame, 1005 for a close frame without one, 1006 for none at all. */
  code: number;
  reason: string;
  closeFrame: boolean;
}

export interface HandshakeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class RawWebSocket {
  readonly frames: ServerFrame[] = [];
  ended: Ended | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private closeFrame: { code: number; reason: string } | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = this.closeFrame ? { ...this.closeFrame, closeFrame: true } : { code: 1006, reason: '', closeFrame: false };
    });
  }

  /**
   * Opens a WebSocket to `path` (query included); resolves with the socket after a 101, or with
   * the HTTP answer when the server refused the upgrade.
   */
  static async open(
    port: number,
    path: string,
    headers: Record<string, string | undefined> = {},
  ): Promise<{ ws: RawWebSocket; answer?: undefined } | { ws?: undefined; answer: HandshakeAnswer }> {
    const key = randomBytes(16).toString('base64');
    const all: Record<string, string | undefined> = {
      host: `127.0.0.1:${port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': key,
      'sec-websocket-version': '13',
      ...headers,
    };
    const lines = [`GET ${path} HTTP/1.1`, ...Object.entries(all).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`), '', ''];
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(lines.join('\r\n'));
    const head = await readHead(socket);
    if (head.status !== 101) {
      socket.destroy();
      return { answer: head };
    }
    const expected = createHash('sha1').update(all['sec-websocket-key'] + GUID).digest('base64');
    if (head.headers['sec-websocket-accept'] !== expected && all['sec-websocket-key'] === key) {
      socket.destroy();
      throw new Error(`bad Sec-WebSocket-Accept ${head.headers['sec-websocket-accept']}`);
    }
    const ws = new RawWebSocket(socket);
    if (head.rest.length > 0) ws.onData(head.rest);
    return { ws };
  }

  send(spec: FrameSpec): void {
    this.sendBytes(clientFrame(spec));
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Data frames (text and binary) received so far, as payloads. */
  dataFrames(): ServerFrame[] {
    return this.frames.filter((frame) => frame.opcode === OPCODE.text || frame.opcode === OPCODE.binary);
  }

  async waitForEnd(timeoutMs = 5000): Promise<Ended> {
    await waitFor(() => this.ended !== undefined, timeoutMs, 'the WebSocket to end');
    return this.ended!;
  }

  async waitForFrames(count: number, timeoutMs = 5000): Promise<ServerFrame[]> {
    await waitFor(() => this.dataFrames().length >= count || this.ended !== undefined, timeoutMs, `${count} data frames`);
    return this.dataFrames();
  }

  /** Answers the server's close frame (if any) and drops the TCP connection. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = parseServerFrame(this.buffer);
      if (!frame) return;
      this.buffer = this.buffer.subarray(frame.size);
      this.frames.push(frame.frame);
      if (frame.frame.opcode === OPCODE.close && !this.closeFrame) {
        const payload = frame.frame.payload;
        this.closeFrame = payload.length >= 2 ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() } : { code: 1005, reason: '' };
        // Echo the close, as RFC 6455 asks; the server then ends the TCP connection.
        this.sendBytes(clientFrame({ opcode: OPCODE.close, payload: payload.subarray(0, 2) }));
      }
    }
  }
}

/** One unmasked server frame from the front of `bytes`, or undefined when it is not all there yet. */
function parseServerFrame(bytes: Buffer): { frame: ServerFrame; size: number } | undefined {
  if (bytes.length < 2) return undefined;
  const fin = (bytes[0]! & 0x80) !== 0;
  const opcode = bytes[0]! & 0x0f;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  if (bytes.length < offset + length) return undefined;
  return { frame: { opcode, fin, payload: Buffer.from(bytes.subarray(offset, offset + length)) }, size: offset + length };
}

/** Reads an HTTP response head (and, for a non-101, its body as far as Content-Length says). */
function readHead(socket: Socket): Promise<HandshakeAnswer & { rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no answer to the upgrade within 5 s')), 5000);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(statusLine!.split(' ')[1]);
      const rest = buffer.subarray(end + 4);
      if (status === 101) return finish(undefined, { status, headers, body: '', rest });
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length >= length) finish(undefined, { status, headers, body: rest.subarray(0, length).toString(), rest: Buffer.alloc(0) });
    };
    const onClose = () => finish(new Error(`connection closed during the upgrade (${JSON.stringify(buffer.toString('latin1').slice(0, 200))})`));
    function finish(error: Error | undefined, value?: HandshakeAnswer & { rest: Buffer }): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(value!);
    }
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
