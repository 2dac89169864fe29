import { Packr } from 'msgpackr';
import type { Encoding } from '../src/protocol/encoding.js';
import type { ClientFrame, ServerFrame } from '../src/protocol/frames.js';
import { MSGPACK_OPTIONS } from '../src/protocol/msgpack-options.js';

/**
 * What the client needs from a WebSocket: the browser API subset that both the global
 * `WebSocket` of browsers (and Node >= 22) and the `ws` package implement.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'open' | 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type { Encoding };

/** WebSocket.CLOSED in every implementation. */
export const CLOSED = 3;

const packr = new Packr(MSGPACK_OPTIONS);
const textDecoder = new TextDecoder();

/** The /v1/ws URL with the encoding chosen by query parameter (works the same in every runtime). */
export function socketUrl(url: string, encoding: Encoding): string {
  const parsed = new URL(url);
  parsed.searchParams.set('encoding', encoding);
  return parsed.toString();
}

export function encodeClientFrame(frame: ClientFrame, encoding: Encoding): string | Uint8Array {
  return encoding === 'json' ? JSON.stringify(frame) : packr.pack(frame);
}

/**
 * Decodes one server frame. Returns undefined for bytes that are not a frame object; the
 * server is trusted to send schema-valid frames (no zod here, to keep the browser bundle small).
 */
export function decodeServerFrame(data: unknown, encoding: Encoding): ServerFrame | undefined {
  let value: unknown;
  try {
    if (typeof data === 'string') value = JSON.parse(data);
    else if (encoding === 'msgpack') value = packr.unpack(toBytes(data));
    else value = JSON.parse(textDecoder.decode(toBytes(data)));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return undefined;
  return value as ServerFrame;
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('unexpected WebSocket message data');
}
