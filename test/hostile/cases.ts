// The shape of a hostile-input row and the inputs rows are built from. A row is an input and what
// the server must answer to it, per transport where uWebSockets.js 20.30 cannot be made to answer
// like the ws transport (README "Known limits of the uWS transport"); the runner
// (hostile.case.ts) sends it, checks the answer, then checks that the node still serves a publish
// and a subscribe and that nothing was stored for it.
import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import type { FrameSpec } from '../support/raw-ws.js';

export type TransportName = 'uws' | 'ws';
export type EncodingName = 'json' | 'msgpack';

/** What an HTTP exchange must look like. */
export type HttpOutcome =
  | {
      status: number;
      /** The catalog code of the JSON error body. */
      code?: string;
      /** The server closes the connection after this answer. */
      closed?: boolean;
      /** Headers that must be there (exact value, or a pattern), or be absent (null). */
      headers?: Record<string, string | RegExp | null>;
      /** No body bytes follow the head (HEAD answers). */
      noBody?: boolean;
      /** The answer's body is at most this many bytes (no unbounded echo). */
      maxBodyBytes?: number;
      /** At most this many error details, and the total count when they were cut. */
      details?: { max: number; count?: number };
      /** How many entries the request stored (default 0: nothing). */
      stored?: number;
      /** Answers on the connection (pipelining); default 1. */
      answers?: number;
    }
  /** No answer at all: the connection is closed at once, or held open (until uWS's own timeout). */
  | { noAnswer: 'closed' | 'held' };

/** What a WebSocket exchange must end in. */
export type WsOutcome =
  /** An error frame with this code; the connection stays usable. */
  | { error: string; maxFrameBytes?: number; details?: { max: number; count?: number } }
  /** The server closes: with this close code (1005: a close frame without a code; 1006: no close frame). */
  | { close: number }
  /** Nothing happens: the connection stays open and usable; `pongs` WebSocket pongs came back. */
  | { open: true; pongs?: number; stored?: number }
  /** The frame is ignored: no answer and no close (uWS 20.30 on an unmasked frame, which it then misreads). */
  | { silent: true };

export type PerTransport<T> = T | { uws: T; ws: T };

export interface Context {
  /** A channel of this case alone: nothing may be stored in it unless the row says so. */
  channel: string;
  port: number;
}

export interface HttpRow {
  name: string;
  /** The issue-9 finding the row pins, if any. */
  finding?: number;
  request: (context: Context) => Buffer;
  /** Further bytes, written after a pause each (a head split across TCP reads). */
  more?: (context: Context) => Buffer[];
  head?: boolean;
  expect: PerTransport<HttpOutcome>;
}

export interface UpgradeRow {
  name: string;
  finding?: number;
  path: string;
  /** Replaces the default handshake headers; undefined removes one. */
  headers?: Record<string, string | undefined>;
  /** A raw request instead of the handshake built from path and headers. */
  raw?: (context: Context) => Buffer;
  expect: PerTransport<HttpOutcome | { upgraded: true }>;
}

export interface WsRow {
  name: string;
  finding?: number;
  /** The encodings the row runs on (one case each). */
  encodings: readonly EncodingName[];
  frames: (encoding: EncodingName, context: Context) => FrameSpec[] | Buffer;
  expect: PerTransport<WsOutcome>;
}

export function isPerTransport<T>(expect: PerTransport<T>): expect is { uws: T; ws: T } {
  return typeof expect === 'object' && expect !== null && 'uws' in expect && 'ws' in expect;
}

export function outcomeFor<T>(expect: PerTransport<T>, transport: TransportName): T {
  return isPerTransport(expect) ? expect[transport] : expect;
}

// ---- inputs ----

export const packr = new Packr(MSGPACK_OPTIONS);

/** A valid signal published to `channel` only. */
export function signalTo(channel: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol: 'HOSTILE', side: 'BUY', strength: 0.5, channels: [channel], ...extra };
}

/** The JSON text of a value with a key spliced in that JSON.stringify cannot write (`__proto__`). */
export function withRawKey(value: Record<string, unknown>, path: 'top' | 'meta', key: string, raw = '1'): string {
  const json = JSON.stringify(path === 'top' ? value : { ...value, meta: { ok: 1 } });
  return path === 'top' ? json.replace(/^\{/, `{${JSON.stringify(key)}:${raw},`) : json.replace('"meta":{', `"meta":{${JSON.stringify(key)}:${raw},`);
}

/** msgpack bytes of a map with the given raw (already encoded) entries, in order. */
export function msgpackMap(entries: Array<[key: Buffer, value: Buffer]>): Buffer {
  if (entries.length > 15) throw new Error('fixmap only');
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flat()]);
}

export const mp = (value: unknown): Buffer => Buffer.from(packr.pack(value));

/** A signal to `channel` as msgpack, with `metaValue` (raw msgpack bytes) under meta.x. */
export function msgpackSignalWithMeta(channel: string, metaEntry: [key: Buffer, value: Buffer]): Buffer {
  const base = signalTo(channel);
  return msgpackMap([...Object.entries(base).map(([key, value]): [Buffer, Buffer] => [mp(key), mp(value)]), [mp('meta'), msgpackMap([metaEntry])]]);
}

/** A value nested `depth` levels deep in arrays. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A frame payload in the connection's encoding: text JSON or binary msgpack. */
export function dataFrame(encoding: EncodingName, value: unknown): FrameSpec {
  return encoding === 'json' ? { opcode: 0x1, payload: JSON.stringify(value) } : { opcode: 0x2, payload: mp(value) };
}

/** Raw bytes as a data frame of the connection's kind. */
export function rawDataFrame(encoding: EncodingName, bytes: Buffer | string): FrameSpec {
  return { opcode: encoding === 'json' ? 0x1 : 0x2, payload: bytes };
}
