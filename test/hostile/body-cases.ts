// Hostile publish bodies in both encodings (finding 8): msgpackr's own extensions, prototype keys,
// depth, unbounded error details, and the ordinary schema errors.
import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import { mp, msgpackMap, msgpackSignalWithMeta, nestedArrays, signalTo, withRawKey, type HttpRow } from './cases.js';
import { MAX_BODY_BYTES, post } from './http-cases.js';

const json = (value: unknown): Buffer => post(JSON.stringify(value));
const msgpack = (bytes: Buffer | Uint8Array): Buffer => post(Buffer.from(bytes), 'application/msgpack');
const invalid = { status: 400, code: 'invalid_signal', maxBodyBytes: 4096 } as const;
const badJson = { status: 400, code: 'bad_json', maxBodyBytes: 1024 } as const;
const badMsgpack = { status: 400, code: 'bad_msgpack', maxBodyBytes: 1024 } as const;
const str = (text: string): Buffer => mp(text);

/** A msgpack signal to `channel` whose meta.x is the raw msgpack `value`. */
const metaValue = (channel: string, value: Buffer | Uint8Array): Buffer => msgpack(msgpackSignalWithMeta(channel, [str('x'), Buffer.from(value)]));
const metaKey = (channel: string, key: Buffer): Buffer => msgpack(msgpackSignalWithMeta(channel, [key, mp(1)]));

const cyclic = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { a: 1 };
  value['self'] = value;
  return value;
};

export const BODY_ROWS: HttpRow[] = [
  // ---- msgpackr extensions are refused before validation ----
  { name: 'msgpack record (msgpackr structures)', finding: 8, request: ({ channel }) => msgpack(new Packr({ useRecords: true }).pack(signalTo(channel))), expect: badMsgpack },
  { name: 'msgpack RegExp in meta', finding: 8, request: ({ channel }) => metaValue(channel, new Packr({ moreTypes: true }).pack(/a+/g)), expect: badMsgpack },
  { name: 'msgpack Set in meta', finding: 8, request: ({ channel }) => metaValue(channel, new Packr({ moreTypes: true }).pack(new Set([1]))), expect: badMsgpack },
  { name: 'msgpack Date (timestamp ext -1)', finding: 8, request: ({ channel }) => metaValue(channel, new Packr().pack(new Date(0))), expect: badMsgpack },
  { name: 'msgpack BigInt ext 0x42', finding: 8, request: ({ channel }) => metaValue(channel, new Packr({ useBigIntExtension: true }).pack(2n ** 70n)), expect: badMsgpack },
  { name: 'msgpack Error ext 0x65', finding: 8, request: ({ channel }) => metaValue(channel, new Packr({ moreTypes: true }).pack(new Error('boom'))), expect: badMsgpack },
  { name: 'msgpack typed array ext 0x74', finding: 8, request: ({ channel }) => metaValue(channel, new Packr({ moreTypes: true }).pack(new Float32Array([1]))), expect: badMsgpack },
  { name: 'msgpack structured clone (cycle)', finding: 8, request: () => msgpack(new Packr({ structuredClone: true }).pack(cyclic())), expect: badMsgpack },
  { name: 'msgpack bundled strings', finding: 8, request: ({ channel }) => msgpack(new Packr({ bundleStrings: true, useRecords: false }).pack(signalTo(channel, { strategy: 's'.repeat(40) }))), expect: badMsgpack },
  { name: 'msgpack ext 0 with data (not undefined)', finding: 8, request: ({ channel }) => metaValue(channel, Buffer.from([0xd4, 0x00, 0x01])), expect: badMsgpack },
  { name: 'msgpack undefined is no meta value', request: ({ channel }) => metaValue(channel, Buffer.from([0xd4, 0x00, 0x00])), expect: invalid },
  { name: 'msgpack undefined in an optional field is absent', request: ({ channel }) => msgpack(new Packr(MSGPACK_OPTIONS).pack(signalTo(channel, { price: undefined }))), expect: { status: 200, stored: 1 } },
  { name: 'msgpack ext 8 of 16 bytes', request: ({ channel }) => metaValue(channel, Buffer.concat([Buffer.from([0xd8, 0x08]), Buffer.alloc(16)])), expect: badMsgpack },
  { name: 'msgpack bin value in meta', request: ({ channel }) => metaValue(channel, Buffer.from([0xc4, 0x02, 0x01, 0x02])), expect: badMsgpack },
  { name: 'msgpack bin as the whole body', request: () => msgpack(Buffer.concat([Buffer.from([0xc5, 0x10, 0x00]), Buffer.alloc(4096)])), expect: badMsgpack },
  { name: 'msgpack 0xc1 (never used)', request: ({ channel }) => metaValue(channel, Buffer.from([0xc1])), expect: badMsgpack },
  { name: 'msgpack trailing bytes', request: ({ channel }) => msgpack(Buffer.concat([mp(signalTo(channel)), Buffer.from([0x01])])), expect: badMsgpack },
  { name: 'msgpack truncated', request: ({ channel }) => msgpack(mp(signalTo(channel)).subarray(0, 20)), expect: badMsgpack },
  { name: 'msgpack map claiming 2^32-1 entries', request: () => msgpack(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61])), expect: badMsgpack },
  { name: 'msgpack integer map key', request: ({ channel }) => metaKey(channel, mp(7)), expect: badMsgpack },
  { name: 'msgpack __proto__ key in meta', finding: 8, request: ({ channel }) => metaKey(channel, str('__proto__')), expect: badMsgpack },
  { name: 'msgpack constructor key in meta', finding: 8, request: ({ channel }) => metaKey(channel, str('constructor')), expect: badMsgpack },
  { name: 'msgpack prototype key in meta', finding: 8, request: ({ channel }) => metaKey(channel, str('prototype')), expect: badMsgpack },
  { name: 'msgpack __proto__ key at the top', finding: 8, request: ({ channel }) => msgpack(Buffer.concat([Buffer.from([0x80 + Object.keys(signalTo(channel)).length + 1]), ...Object.entries(signalTo(channel)).flatMap(([k, v]) => [mp(k), mp(v)]), str('__proto__'), mp({})])), expect: badMsgpack },
  { name: 'msgpack invalid UTF-8 in a string', request: ({ channel }) => metaValue(channel, Buffer.from([0xa2, 0xff, 0xfe])), expect: badMsgpack },
  { name: 'msgpack nested 200 deep', request: ({ channel }) => metaValue(channel, mp(nestedArrays(200))), expect: badMsgpack },
  { name: 'msgpack nested 60,000 deep', request: () => msgpack(Buffer.alloc(60_000, 0x91)), expect: badMsgpack },
  { name: 'msgpack body with JSON in it', request: ({ channel }) => msgpack(Buffer.from(JSON.stringify(signalTo(channel)))), expect: badMsgpack },
  { name: 'msgpack body that is empty', request: () => msgpack(Buffer.alloc(0)), expect: badMsgpack },
  { name: 'msgpack signal with a 60 KB key is not echoed', finding: 8, request: ({ channel }) => metaKey(channel, str('k'.repeat(60_000))), expect: invalid },
  { name: 'msgpack valid signal is stored', request: ({ channel }) => msgpack(mp(signalTo(channel))), expect: { status: 200, stored: 1 } },
  { name: 'msgpack map as object keeps its keys', request: ({ channel }) => msgpack(msgpackSignalWithMeta(channel, [str('constructor_'), mp(1)])), expect: { status: 200, stored: 1 } },

  // ---- prototype keys and depth in JSON ----
  { name: 'JSON __proto__ key in meta', finding: 8, request: ({ channel }) => post(withRawKey(signalTo(channel), 'meta', '__proto__', '{"admin":true}')), expect: badJson },
  { name: 'JSON constructor key in meta', finding: 8, request: ({ channel }) => post(withRawKey(signalTo(channel), 'meta', 'constructor')), expect: badJson },
  { name: 'JSON prototype key in meta', finding: 8, request: ({ channel }) => post(withRawKey(signalTo(channel), 'meta', 'prototype')), expect: badJson },
  { name: 'JSON escaped __pro\\u0074o__ key', finding: 8, request: ({ channel }) => post(withRawKey(signalTo(channel), 'meta', '__proto__').replace('"__proto__"', '"__pro\\u0074o__"')), expect: badJson },
  { name: 'JSON __proto__ key at the top', finding: 8, request: ({ channel }) => post(withRawKey(signalTo(channel), 'top', '__proto__', '{}')), expect: badJson },
  { name: 'JSON __proto__ in a {signals} wrapper', finding: 8, request: ({ channel }) => post(`{"__proto__":[],"signals":[${JSON.stringify(signalTo(channel))}]}`), expect: badJson },
  { name: 'JSON nested 200 deep', request: ({ channel }) => json(signalTo(channel, { meta: { x: nestedArrays(200) } })), expect: badJson },
  { name: 'JSON nested 30,000 deep', request: () => post('['.repeat(30_000) + ']'.repeat(30_000)), expect: badJson },
  { name: 'JSON invalid UTF-8', request: () => post(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), expect: badJson },
  { name: 'JSON with a lone surrogate escape is just text', request: ({ channel }) => json(signalTo(channel, { strategy: '\ud800' })), expect: { status: 200, stored: 1 } },
  { name: 'JSON truncated', request: ({ channel }) => post(JSON.stringify(signalTo(channel)).slice(0, 30)), expect: badJson },
  { name: 'JSON two values', request: ({ channel }) => post(`${JSON.stringify(signalTo(channel))} {}`), expect: badJson },
  { name: 'JSON body empty', request: () => post(''), expect: badJson },
  { name: 'JSON error does not echo a 60 KB string', finding: 8, request: () => post(`"${'z'.repeat(60_000)}`), expect: badJson },

  // ---- unbounded error details ----
  {
    name: '5,000 unknown keys: a bounded answer',
    finding: 8,
    request: ({ channel }) => json({ ...signalTo(channel), ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1])) }),
    expect: { ...invalid, maxBodyBytes: 2048 },
  },
  {
    name: '50 bad items: 20 details and the count',
    finding: 8,
    request: ({ channel }) => json(Array.from({ length: 50 }, () => signalTo(channel, { side: 'UP', strength: 2 }))),
    expect: { ...invalid, details: { max: 20, count: 100 } },
  },
  { name: 'a 30 KB unknown field name is not echoed', finding: 8, request: ({ channel }) => json({ ...signalTo(channel), ['f'.repeat(30_000)]: 1 }), expect: invalid },
  { name: 'a 40 KB meta key is not echoed', finding: 8, request: ({ channel }) => json(signalTo(channel, { meta: { ['m'.repeat(40_000)]: 1 } })), expect: invalid },
  { name: 'a 50 KB side is not echoed', request: ({ channel }) => json(signalTo(channel, { side: 's'.repeat(50_000) })), expect: invalid },

  // ---- the schema ----
  { name: 'null body', request: () => post('null'), expect: invalid },
  { name: 'number body', request: () => post('42'), expect: invalid },
  { name: 'string body', request: () => post('"BUY"'), expect: invalid },
  { name: 'array of numbers', request: () => post('[1,2]'), expect: invalid },
  { name: '{signals} not an array', request: () => json({ signals: 'x' }), expect: invalid },
  { name: 'strength 1.5', request: ({ channel }) => json(signalTo(channel, { strength: 1.5 })), expect: invalid },
  { name: 'side in lower case', request: ({ channel }) => json(signalTo(channel, { side: 'buy' })), expect: invalid },
  { name: '17 channels', request: ({ channel }) => json(signalTo(channel, { channels: Array.from({ length: 17 }, (_, i) => `${channel}.${i}`) })), expect: invalid },
  { name: 'a channel with braces', request: ({ channel }) => json(signalTo(channel, { channels: [channel, '{x}'] })), expect: invalid },
  { name: 'negative ts', request: ({ channel }) => json(signalTo(channel, { ts: -1 })), expect: invalid },
  { name: 'a 65-char id', request: ({ channel }) => json(signalTo(channel, { id: 'i'.repeat(65) })), expect: invalid },
  { name: 'meta with 33 keys', request: ({ channel }) => json(signalTo(channel, { meta: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`m${i}`, i])) })), expect: invalid },
  { name: 'nested meta', request: ({ channel }) => json(signalTo(channel, { meta: { a: { b: 1 } } })), expect: invalid },
  { name: 'one bad item rejects the batch', request: ({ channel }) => json([signalTo(channel), signalTo(channel, { price: -1 })]), expect: invalid },
  { name: 'empty batch', request: () => post('[]'), expect: { status: 400, code: 'empty_batch' } },
  { name: 'batch of 51', request: ({ channel }) => json(Array.from({ length: 51 }, () => signalTo(channel))), expect: { status: 413, code: 'batch_too_large' } },
  { name: 'a body over MAX_BODY_BYTES', request: ({ channel }) => post(JSON.stringify(signalTo(channel)).padEnd(MAX_BODY_BYTES + 1, ' ')), expect: { status: 413, code: 'body_too_large', closed: true } },
  { name: 'text/plain body', request: ({ channel }) => post(JSON.stringify(signalTo(channel)), 'text/plain'), expect: { status: 415, code: 'unsupported_media_type' } },
  { name: 'no content type', request: ({ channel }) => post(JSON.stringify(signalTo(channel)), null), expect: { status: 415, code: 'unsupported_media_type' } },
  { name: 'a 6 KB content type is not echoed', request: ({ channel }) => post(JSON.stringify(signalTo(channel)), `x/${'t'.repeat(6000)}`), expect: { status: 415, code: 'unsupported_media_type', maxBodyBytes: 512 } },
  { name: 'JSON sent as msgpack', request: ({ channel }) => post(JSON.stringify(signalTo(channel)), 'application/msgpack'), expect: badMsgpack },
  { name: 'JSON with a charset is read', request: ({ channel }) => post(JSON.stringify(signalTo(channel)), 'application/json; charset=utf-8'), expect: { status: 200, stored: 1 } },
  { name: 'msgpack map of 1 key per entry', request: ({ channel }) => msgpack(msgpackMap([[str('signals'), mp([signalTo(channel)])]])), expect: { status: 200, stored: 1 } },
];
