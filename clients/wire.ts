import { Packr } from 'msgpackr';
import type { Encoding } from '../src/protocol/encoding.js';
import type { ClientFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames.js';
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

/** `protocols` is the Sec-WebSocket-Protocol offer (both the browser API and `ws` take it second). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export type { Encoding };

/**
 * What the client sends: the protocol's frames, and a subscribe that may ask for a conflated feed
 * (`conflate` ms). Sent only when the app asks for it: a server without conflation refuses the
 * subscribe with an error frame, which the app is shown.
 */
export type OutgoingFrame = ClientFrame | (SubscribeFrame & { conflate?: number });

/** WebSocket.CLOSED in every implementation. */
export const CLOSED = 3;

const packr = new Packr(MSGPACK_OPTIONS);
const textDecoder = new TextDecoder();

/** Characters a Sec-WebSocket-Protocol value may hold (an RFC 7230 token). */
const PROTOCOL_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Where a connection's URL and subprotocol offer come from: the encoding, and a token when one is set. */
export interface SocketAddress {
  url: string;
  protocols: string[] | undefined;
}

/**
 * The /v1/ws URL with the encoding chosen by query parameter (works the same in every runtime).
 * A token travels as a `sigcast.token.<token>` subprotocol (kept out of URLs and access logs),
 * offered beside `sigcast.v1.<encoding>`; one with characters a subprotocol cannot carry goes as
 * `?token=` instead. Browsers cannot set an Authorization header on a WebSocket.
 */
export function socketAddress(url: string, encoding: Encoding, token?: string): SocketAddress {
  const parsed = new URL(url);
  parsed.searchParams.set('encoding', encoding);
  if (!token) return { url: parsed.toString(), protocols: undefined };
  if (PROTOCOL_TOKEN.test(token)) return { url: parsed.toString(), protocols: [`sigcast.v1.${encoding}`, `sigcast.token.${token}`] };
  parsed.searchParams.set('token', token);
  return { url: parsed.toString(), protocols: undefined };
}

export function encodeClientFrame(frame: OutgoingFrame, encoding: Encoding): string | Uint8Array {
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
