import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { WsFrameReader } from './ws-frames.js';

/**
 * The one WebSocket client every adapter uses: a minimal RFC 6455 client over a raw TCP socket
 * (no compression, no UTF-8 check, no events per frame). The `ws` package costs about 3 us per
 * received message, which made the load generator, not the servers, the bottleneck on 2 cores.
 * `onMessage` gets a view into the socket's buffer, valid only during the call.
 */
export interface WsConn {
  send(data: string | Uint8Array): void;
  /** Stop / restart reading (a slow consumer: the server's send buffer fills up). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function openWs(
  url: string,
  onMessage: (data: Buffer, isBinary: boolean) => void,
  onClose: (code: number, reason: string) => void,
  timeoutMs = 15_000,
): Promise<WsConn> {
  const target = new URL(url);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      agent: false,
      timeout: timeoutMs,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
    });
    req.on('timeout', () => req.destroy(new Error(`WebSocket handshake timed out: ${url}`)));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`WebSocket handshake refused: HTTP ${res.statusCode} ${url}`));
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      socket.setTimeout(0);
      socket.setNoDelay(true);
      resolve(connection(socket, head, onMessage, onClose));
    });
    req.end();
  });
}

function connection(
  socket: Socket,
  head: Buffer,
  onMessage: (data: Buffer, isBinary: boolean) => void,
  onClose: (code: number, reason: string) => void,
): WsConn {
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const finish = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    onClose(code, reason);
  };
  const write = (opcode: number, payload: Buffer): void => {
    if (!socket.writable) return;
    socket.write(frame(opcode, payload));
  };
  const reader = new WsFrameReader({
    message: onMessage,
    ping: (payload) => write(0xa, Buffer.from(payload)),
    close: (code, reason) => {
      write(0x8, closePayload(code));
      socket.end();
      finish(code, reason);
    },
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => finish(1006, 'connection dropped'));
  if (head.length) reader.push(head);
  return {
    send: (data) => write(typeof data === 'string' ? 0x1 : 0x2, typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    async close() {
      if (!closed) {
        closed = true;
        write(0x8, closePayload(1000));
        socket.end();
      }
      const timer = setTimeout(() => socket.destroy(), 1000);
      await closedPromise;
      clearTimeout(timer);
    },
  };
}

function closePayload(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return payload;
}

// Client frames must be masked; keys come from a pooled random buffer (cheap per frame).
const maskPool = Buffer.alloc(4096);
let maskOffset = maskPool.length;

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  if (maskOffset + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  maskPool.copy(out, headerLength, maskOffset, maskOffset + 4);
  maskOffset += 4;
  const maskStart = headerLength;
  for (let i = 0; i < length; i++) out[headerLength + 4 + i] = (payload[i] ?? 0) ^ (out[maskStart + (i & 3)] ?? 0);
  return out;
}

/** Request/answer bookkeeping for protocols that echo an id. */
export class Pending<T> {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: T) => void; reject: (error: Error) => void }>();
  add(): { id: number; promise: Promise<T> } {
    const id = this.next++;
    const promise = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    return { id, promise };
  }
  resolve(id: number, value: T): boolean {
    const entry = this.waiting.get(id);
    if (!entry) return false;
    this.waiting.delete(id);
    entry.resolve(value);
    return true;
  }
  reject(id: number, error: Error): void {
    this.waiting.get(id)?.reject(error);
    this.waiting.delete(id);
  }
  rejectAll(error: Error): void {
    for (const entry of this.waiting.values()) entry.reject(error);
    this.waiting.clear();
  }
}
