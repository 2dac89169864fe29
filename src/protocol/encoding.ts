// The registry of wire encodings. Everything that differs between JSON and msgpack is stated
// here once (frame kind, subprotocol, topic prefix, encode, decode); the rest of sigcast asks
// the registry, so a third encoding touches this file and nothing else.
import { Packr } from 'msgpackr';
import { SigcastError } from '../errors.js';
import { entryJson } from '../signal/entry-json.js';
import type { Entry } from '../signal/schema.js';
import { boundedText } from '../util/bounded-text.js';
import { MSGPACK_OPTIONS } from './msgpack-options.js';
import { jsonProblem, msgpackProblem } from './strict-data.js';

/**
 * What a transport writes: a text frame or a binary frame. A text payload may be pre-encoded
 * UTF-8 bytes: frames sent many times (replay) are then never re-encoded per send.
 */
export interface WireFrame {
  readonly payload: string | Uint8Array;
  readonly binary: boolean;
}

export interface EncodingSpec {
  /** True: binary WebSocket frames; false: text frames. */
  readonly binary: boolean;
  /** The Sec-WebSocket-Protocol name that selects this encoding. */
  readonly subprotocol: string;
  /** HTTP content types of request bodies in this encoding (the first one is canonical). */
  readonly contentTypes: readonly string[];
  /** Prefix of fan-out topics: subscribers of one encoding share pre-encoded frames. */
  readonly topicPrefix: string;
  encode(frame: unknown): WireFrame;
  /** An entry frame; may reuse the text the broker stored the entry as. `replaced`: on a conflated feed. */
  encodeEntry(entry: Entry, replaced?: number): WireFrame;
  /** An `entries` frame (frames.ts EntriesFrameSchema): entries of one channel, in seq order. */
  encodeEntries(channel: string, entries: readonly Entry[]): WireFrame;
  /**
   * Plain data only (strict-data.ts: no extension types, no prototype keys, bounded depth);
   * throws SigcastError (bad_json / bad_msgpack) otherwise. Messages never echo the input at length.
   */
  decode(bytes: Uint8Array): unknown;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const packr = new Packr(MSGPACK_OPTIONS);

const json: EncodingSpec = {
  binary: false,
  subprotocol: 'sigcast.v1.json',
  contentTypes: ['application/json'],
  topicPrefix: 'j:',
  encode: (frame) => ({ payload: JSON.stringify(frame), binary: false }),
  // The entry's stored text with the frame type spliced in front: no second serialization.
  encodeEntry: (entry, replaced) => ({
    payload: Buffer.from(`{"type":"entry",${replaced === undefined ? '' : `"replaced":${replaced},`}${entryJson(entry).slice(1)}`),
    binary: false,
  }),
  // The stored texts joined: one allocation, nothing serialized again.
  encodeEntries: (channel, entries) => ({
    payload: Buffer.from(`{"type":"entries","channel":${JSON.stringify(channel)},"entries":[${entries.map(entryJson).join(',')}]}`),
    binary: false,
  }),
  decode(bytes) {
    let value: unknown;
    try {
      value = JSON.parse(textDecoder.decode(bytes));
    } catch (error) {
      throw new SigcastError('bad_json', `not valid JSON: ${boundedText(error instanceof Error ? error.message : String(error), 160)}`);
    }
    const problem = jsonProblem(value);
    if (problem) throw new SigcastError('bad_json', `not valid sigcast JSON: ${problem}`);
    return value;
  },
};

const msgpack: EncodingSpec = {
  binary: true,
  subprotocol: 'sigcast.v1.msgpack',
  contentTypes: ['application/msgpack', 'application/x-msgpack'],
  topicPrefix: 'm:',
  encode: (frame) => ({ payload: packr.pack(frame), binary: true }),
  encodeEntry: (entry, replaced) => ({ payload: packr.pack({ type: 'entry', ...entry, ...(replaced === undefined ? {} : { replaced }) }), binary: true }),
  encodeEntries: (channel, entries) => ({ payload: packr.pack({ type: 'entries', channel, entries }), binary: true }),
  decode(bytes) {
    // Checked before msgpackr sees the bytes: it would materialise its own extensions.
    const problem = msgpackProblem(bytes);
    if (problem) throw new SigcastError('bad_msgpack', `not valid sigcast msgpack: ${problem}`);
    try {
      return packr.unpack(bytes);
    } catch (error) {
      throw new SigcastError('bad_msgpack', `not valid msgpack: ${boundedText(error instanceof Error ? error.message : String(error), 160)}`);
    }
  },
};

export const ENCODINGS = { json, msgpack } as const satisfies Record<string, EncodingSpec>;
export type Encoding = keyof typeof ENCODINGS;
export const ENCODING_NAMES = Object.keys(ENCODINGS) as [Encoding, ...Encoding[]];

export function isEncoding(name: string): name is Encoding {
  return Object.hasOwn(ENCODINGS, name);
}

/** The encoding whose subprotocol this is, if any. */
export function encodingOfSubprotocol(protocol: string): Encoding | undefined {
  return ENCODING_NAMES.find((name) => ENCODINGS[name].subprotocol === protocol);
}

/** The encoding of an HTTP body with this (lower-cased, parameter-free) content type, if any. */
export function encodingOfContentType(type: string): Encoding | undefined {
  return ENCODING_NAMES.find((name) => ENCODINGS[name].contentTypes.includes(type));
}
