// Hostile WebSocket handshakes and frames (finding 7, the ping half of finding 9, the frame half of
// finding 8), on both encodings where the frame content matters.
import { Packr } from 'msgpackr';
import { clientFrame, closePayload, OPCODE, type FrameSpec } from '../support/raw-ws.js';
import { httpRequest } from '../support/raw-http.js';
import { dataFrame, mp, nestedArrays, rawDataFrame, signalTo, type EncodingName, type HttpOutcome, type UpgradeRow, type WsOutcome, type WsRow } from './cases.js';

export const MAX_FRAME_BYTES = 4096;
const BOTH: readonly EncodingName[] = ['json', 'msgpack'];
const PING = (encoding: EncodingName): FrameSpec => dataFrame(encoding, { op: 'ping', id: 'p' });

const refused = (status: number, code: string, headers?: Record<string, string>): HttpOutcome => ({ status, code, closed: true, ...(headers ? { headers } : {}) });

export const UPGRADE_ROWS: UpgradeRow[] = [
  { name: 'a plain upgrade', path: '/v1/ws', expect: { upgraded: true } },
  { name: 'no Sec-WebSocket-Key', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-key': undefined }, expect: refused(400, 'bad_request') },
  { name: 'a 3-char Sec-WebSocket-Key', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-key': 'abc' }, expect: refused(400, 'bad_request') },
  { name: 'a 24-char key that is not base64', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-key': '!!!!!!!!!!!!!!!!!!!!!!==' }, expect: refused(400, 'bad_request') },
  { name: 'a key of 18 bytes', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-key': 'AAAAAAAAAAAAAAAAAAAAAAAA' }, expect: refused(400, 'bad_request') },
  { name: 'Sec-WebSocket-Version 8', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-version': '8' }, expect: refused(426, 'upgrade_required', { 'sec-websocket-version': '13' }) },
  { name: 'Sec-WebSocket-Version 14', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-version': '14' }, expect: refused(426, 'upgrade_required', { 'sec-websocket-version': '13' }) },
  { name: 'no Sec-WebSocket-Version', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-version': undefined }, expect: refused(426, 'upgrade_required', { 'sec-websocket-version': '13' }) },
  { name: 'Sec-WebSocket-Version 13, 8', finding: 7, path: '/v1/ws', headers: { 'sec-websocket-version': '13, 8' }, expect: refused(426, 'upgrade_required', { 'sec-websocket-version': '13' }) },
  { name: 'encoding= (empty)', finding: 7, path: '/v1/ws?encoding=', expect: refused(400, 'bad_request') },
  { name: 'encoding twice, different', finding: 7, path: '/v1/ws?encoding=msgpack&encoding=json', expect: refused(400, 'bad_request') },
  { name: 'encoding twice, the same', finding: 7, path: '/v1/ws?encoding=json&encoding=json', expect: refused(400, 'bad_request') },
  { name: 'encoding=xml', path: '/v1/ws?encoding=xml', expect: refused(400, 'bad_request') },
  { name: 'a 2 KB encoding is not echoed', path: `/v1/ws?encoding=${'x'.repeat(2000)}`, expect: { ...refused(400, 'bad_request'), maxBodyBytes: 512 } },
  { name: 'only an unknown subprotocol', path: '/v1/ws', headers: { 'sec-websocket-protocol': 'chat' }, expect: refused(400, 'bad_request') },
  { name: 'query and subprotocol disagree', path: '/v1/ws?encoding=msgpack', headers: { 'sec-websocket-protocol': 'sigcast.v1.json' }, expect: refused(400, 'bad_request') },
  { name: 'a subprotocol header over MAX_HEADER_BYTES', path: '/v1/ws', headers: { 'sec-websocket-protocol': `sigcast.v1.json, ${'p'.repeat(9000)}` }, expect: refused(431, 'headers_too_large') },
  { name: 'Upgrade: h2c', path: '/v1/ws', headers: { upgrade: 'h2c' }, expect: refused(426, 'upgrade_required', { upgrade: 'websocket' }) },
  { name: 'GET /v1/ws without Upgrade', finding: 7, path: '/v1/ws', raw: () => httpRequest('GET /v1/ws HTTP/1.1', [['Host', '127.0.0.1']]), expect: { status: 426, code: 'upgrade_required', headers: { upgrade: 'websocket' } } },
  { name: 'POST /v1/ws with upgrade headers', path: '/v1/ws', raw: () => httpRequest('POST /v1/ws HTTP/1.1', [['Host', 'a'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13'], ['Content-Length', '0']]), expect: refused(405, 'method_not_allowed', { allow: 'GET' }) },
  { name: 'an upgrade to another path', path: '/v1/other', expect: { status: 404, code: 'not_found' } },
];

/** WebSocket protocol violations (RFC 6455): ws closes with the RFC's code, uWS 20.30 as pinned here. */
const violation = (name: string, frames: FrameSpec[] | ((encoding: EncodingName) => FrameSpec[] | Buffer), ws: number, uws: WsOutcome): WsRow => ({
  name,
  finding: 7,
  encodings: BOTH,
  frames: typeof frames === 'function' ? frames : () => frames,
  expect: { ws: { close: ws }, uws },
});
const uwsDrop: WsOutcome = { close: 1006 };
/** uWS answers a close frame it will not accept with a close frame of no code. */
const uwsEmptyClose: WsOutcome = { close: 1005 };

export const WS_PROTOCOL_ROWS: WsRow[] = [
  violation('invalid UTF-8 in a text frame', [{ opcode: OPCODE.text, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }], 1007, uwsDrop),
  violation('overlong UTF-8 in a text frame', [{ opcode: OPCODE.text, payload: Buffer.from([0xc0, 0xaf]) }], 1007, uwsDrop),
  violation('invalid UTF-8 split across fragments', [{ opcode: OPCODE.text, payload: Buffer.from([0x22, 0xe2, 0x82]), fin: false }, { opcode: OPCODE.continuation, payload: Buffer.from([0x41, 0x22]) }], 1007, uwsDrop),
  violation('an unmasked frame', (encoding) => [{ ...PING(encoding), mask: false }], 1002, { silent: true }),
  violation('opcode 3 (reserved data)', [{ opcode: 3, payload: 'x' }], 1002, uwsDrop),
  violation('opcode 7 (reserved data)', [{ opcode: 7, payload: 'x' }], 1002, uwsDrop),
  violation('opcode 0xB (reserved control)', [{ opcode: 0xb, payload: 'x' }], 1002, uwsDrop),
  violation('opcode 0xF (reserved control)', [{ opcode: 0xf }], 1002, uwsDrop),
  violation('RSV1 without an extension', (encoding) => [{ ...PING(encoding), rsv: 0b100 }], 1002, uwsDrop),
  violation('RSV2', (encoding) => [{ ...PING(encoding), rsv: 0b010 }], 1002, uwsDrop),
  violation('RSV3', (encoding) => [{ ...PING(encoding), rsv: 0b001 }], 1002, uwsDrop),
  violation('RSV1 on a ping', [{ opcode: OPCODE.ping, payload: 'x', rsv: 0b100 }], 1002, uwsDrop),
  violation('a continuation with nothing to continue', [{ opcode: OPCODE.continuation, payload: '{}' }], 1002, uwsDrop),
  // uWS takes the second message's frame as the continuation of the first (and, for text, then drops).
  { ...violation('a new text message inside a fragmented one', [{ ...PING('json'), fin: false }, PING('json')], 1002, uwsDrop), encodings: ['json'] },
  { ...violation('a new binary message inside a fragmented one', [{ ...PING('msgpack'), fin: false }, PING('msgpack')], 1002, { error: 'bad_msgpack' }), encodings: ['msgpack'] },
  violation('a fragmented ping', [{ opcode: OPCODE.ping, payload: 'x', fin: false }], 1002, uwsDrop),
  violation('a ping of 126 bytes', [{ opcode: OPCODE.ping, payload: 'x'.repeat(126) }], 1002, uwsDrop),
  violation('a close of 1 byte', [{ opcode: OPCODE.close, payload: Buffer.from([0x03]) }], 1002, uwsEmptyClose),
  violation('close code 999', [{ opcode: OPCODE.close, payload: closePayload(999) }], 1002, uwsEmptyClose),
  violation('close code 1004', [{ opcode: OPCODE.close, payload: closePayload(1004) }], 1002, uwsEmptyClose),
  violation('close code 1005', [{ opcode: OPCODE.close, payload: closePayload(1005) }], 1002, uwsEmptyClose),
  violation('close code 1006', [{ opcode: OPCODE.close, payload: closePayload(1006) }], 1002, uwsEmptyClose),
  violation('close code 1016', [{ opcode: OPCODE.close, payload: closePayload(1016) }], 1002, uwsEmptyClose),
  violation('close code 5000', [{ opcode: OPCODE.close, payload: closePayload(5000) }], 1002, uwsEmptyClose),
  violation('a close reason that is not UTF-8', [{ opcode: OPCODE.close, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) }], 1007, uwsEmptyClose),
  violation('a 64-bit length with the top bit set', () => Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]), 1009, uwsDrop),
  {
    name: 'a frame between MAX_FRAME_BYTES and the hard limit',
    encodings: BOTH,
    frames: (encoding) => [rawDataFrame(encoding, ' '.repeat(MAX_FRAME_BYTES + 1))],
    expect: { close: 1009 },
  },
  {
    name: 'a frame past the hard limit',
    encodings: BOTH,
    frames: (encoding) => [rawDataFrame(encoding, ' '.repeat(MAX_FRAME_BYTES * 3))],
    expect: { ws: { close: 1009 }, uws: uwsDrop },
  },
  {
    name: 'fragments adding up past MAX_FRAME_BYTES',
    encodings: BOTH,
    frames: (encoding) => [
      { ...rawDataFrame(encoding, ' '.repeat(MAX_FRAME_BYTES - 10)), fin: false },
      { opcode: OPCODE.continuation, payload: ' '.repeat(100) },
    ],
    expect: { close: 1009 },
  },
  { name: '100 pings in one write', finding: 9, encodings: ['json'], frames: () => Buffer.concat(Array.from({ length: 100 }, () => pingBytes())), expect: { open: true, pongs: 100 } },
  { name: '1,000 pings in one write', finding: 9, encodings: ['msgpack'], frames: () => Buffer.concat(Array.from({ length: 1000 }, () => pingBytes())), expect: { open: true, pongs: 1000 } },
  { name: 'a fragmented message is read', encodings: BOTH, frames: (encoding) => fragments(encoding), expect: { open: true } },
  { name: 'an unsolicited pong is ignored', encodings: BOTH, frames: () => [{ opcode: OPCODE.pong, payload: 'x' }], expect: { open: true } },
  { name: 'close 1000 is answered with 1000', encodings: BOTH, frames: () => [{ opcode: OPCODE.close, payload: closePayload(1000, 'bye') }], expect: { close: 1000 } },
  { name: 'close 4000 is answered with 4000', encodings: ['json'], frames: () => [{ opcode: OPCODE.close, payload: closePayload(4000) }], expect: { close: 4000 } },
];

const pingBytes = (): Buffer => clientFrame({ opcode: OPCODE.ping, payload: 'p' });

function fragments(encoding: EncodingName): FrameSpec[] {
  const whole = PING(encoding).payload as Buffer | string;
  const bytes = Buffer.from(whole);
  return [
    { opcode: encoding === 'json' ? OPCODE.text : OPCODE.binary, payload: bytes.subarray(0, 3), fin: false },
    { opcode: OPCODE.ping, payload: 'between' },
    { opcode: OPCODE.continuation, payload: bytes.subarray(3, 6), fin: false },
    { opcode: OPCODE.continuation, payload: bytes.subarray(6) },
  ];
}

const err = (code: string, extra: Partial<Extract<WsOutcome, { error: string }>> = {}): WsOutcome => ({ error: code, maxFrameBytes: 2048, ...extra });

/**
 * Frames that are valid WebSocket but not valid sigcast: an error frame, and the connection stays
 * usable. `bad_encoding` stands for the decode error of the connection's encoding (bad_json, bad_msgpack).
 */
export const WS_CONTENT_ROWS: WsRow[] = [
  { name: 'text that is not JSON', encodings: ['json'], frames: () => [rawDataFrame('json', '{"op":')], expect: err('bad_json') },
  { name: 'a binary frame on a JSON connection', encodings: ['json'], frames: () => [rawDataFrame('msgpack', mp({ op: 'ping' }))], expect: err('wrong_encoding') },
  { name: 'a text frame on a msgpack connection', encodings: ['msgpack'], frames: () => [rawDataFrame('json', '{"op":"ping"}')], expect: err('wrong_encoding') },
  { name: 'msgpack 0xc1', encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from([0xc1]))], expect: err('bad_msgpack') },
  { name: 'a msgpack record frame', finding: 8, encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from(new Packr({ useRecords: true }).pack({ op: 'ping', id: 1 })))], expect: err('bad_msgpack') },
  { name: 'a msgpack Date in a frame', finding: 8, encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from(new Packr().pack({ op: 'ping', id: new Date(0) })))], expect: err('bad_msgpack') },
  { name: 'a msgpack BigInt id', finding: 8, encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from(new Packr({ useBigIntExtension: true, useRecords: false }).pack({ op: 'ping', id: 2n ** 70n })))], expect: err('bad_msgpack') },
  { name: 'msgpack trailing bytes', encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.concat([mp({ op: 'ping' }), Buffer.from([0xc0])]))], expect: err('bad_msgpack') },
  { name: 'a msgpack integer key', encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from([0x82, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0x01, 0x01]))], expect: err('bad_msgpack') },
  { name: 'a msgpack bin frame body', encodings: ['msgpack'], frames: () => [rawDataFrame('msgpack', Buffer.from([0xc4, 0x01, 0x00]))], expect: err('bad_msgpack') },
  {
    name: '__proto__ in a published meta',
    finding: 8,
    encodings: BOTH,
    frames: (encoding, { channel }) => [protoFrame(encoding, channel)],
    expect: err('bad_encoding'),
  },
  { name: 'constructor at the top of a frame', finding: 8, encodings: BOTH, frames: (encoding) => [keyedFrame(encoding, 'constructor')], expect: err('bad_encoding') },
  { name: 'prototype at the top of a frame', finding: 8, encodings: BOTH, frames: (encoding) => [keyedFrame(encoding, 'prototype')], expect: err('bad_encoding') },
  { name: 'a frame nested 100 deep', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'ping', id: 1, x: nestedArrays(100) })], expect: err('bad_encoding') },
  { name: 'an unknown op', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'frob' })], expect: err('unknown_op') },
  { name: 'a 3 KB op is not echoed', finding: 8, encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'o'.repeat(3000) })], expect: err('unknown_op', { maxFrameBytes: 512 }) },
  { name: 'no op', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { id: 1 })], expect: err('unknown_op') },
  { name: 'a frame that is an array', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, [1, 2])], expect: err('unknown_op') },
  { name: 'a frame that is null', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, null)], expect: err('unknown_op') },
  { name: 'subscribe to an invalid channel', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'subscribe', channel: 'a b' })], expect: err('invalid_channel') },
  { name: 'subscribe with last 1001', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, last: 1001 })], expect: err('invalid_frame') },
  { name: 'subscribe with since -1', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, since: -1 })], expect: err('invalid_frame') },
  { name: 'subscribe with batch that is not a boolean', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, batch: 'yes' })], expect: err('invalid_frame') },
  { name: 'subscribe with batch 1', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, batch: 1 })], expect: err('invalid_frame') },
  { name: 'subscribe with an unknown field', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, from: 1 })], expect: err('invalid_frame') },
  { name: 'a subscribe with 300 unknown fields is answered briefly', finding: 8, encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'subscribe', channel, ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, 1])) })], expect: err('invalid_frame', { maxFrameBytes: 1024 }) },
  { name: 'unsubscribe when not subscribed', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'unsubscribe', channel })], expect: err('not_subscribed') },
  { name: 'a ping with an object id', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'ping', id: {} })], expect: err('invalid_frame') },
  { name: 'a 65-char string id', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'ping', id: 'i'.repeat(65) })], expect: err('invalid_frame') },
  { name: 'publish without an id', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'publish', signals: signalTo(channel) })], expect: err('invalid_frame') },
  { name: 'publish an invalid signal', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'publish', id: 1, signals: signalTo(channel, { strength: -1 }) })], expect: err('invalid_signal') },
  {
    name: 'publish 40 bad signals: 20 details and the count',
    finding: 8,
    encodings: BOTH,
    frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'publish', id: 1, signals: Array.from({ length: 40 }, () => signalTo(channel, { side: 'X' })) })],
    expect: err('invalid_signal', { maxFrameBytes: 4096, details: { max: 20, count: 40 } }),
  },
  { name: 'publish an empty batch', encodings: BOTH, frames: (encoding) => [dataFrame(encoding, { op: 'publish', id: 1, signals: [] })], expect: err('empty_batch') },
  { name: 'publish 51 signals', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'publish', id: 1, signals: Array.from({ length: 51 }, () => signalTo(channel)) })], expect: err('batch_too_large') },
  { name: 'publish a valid signal is stored', encodings: BOTH, frames: (encoding, { channel }) => [dataFrame(encoding, { op: 'publish', id: 1, signals: signalTo(channel) })], expect: { open: true, stored: 1 } },
];

/** A publish frame whose signal's meta has a `__proto__` key (JSON.stringify cannot write one). */
function protoFrame(encoding: EncodingName, channel: string): FrameSpec {
  const signal = { ...signalTo(channel), meta: { ok: 1 } };
  if (encoding === 'json') {
    return rawDataFrame('json', JSON.stringify({ op: 'publish', id: 1, signals: signal }).replace('"meta":{', '"meta":{"__proto__":{"x":1},'));
  }
  const packed = mp({ op: 'publish', id: 1, signals: signal });
  // The meta map {ok:1} -> {__proto__:1, ok:1}: one more entry, the key spliced in front.
  const meta = Buffer.from([0x81, 0xa2, 0x6f, 0x6b, 0x01]);
  const at = packed.indexOf(meta);
  return rawDataFrame('msgpack', Buffer.concat([packed.subarray(0, at), Buffer.from([0x82]), mp('__proto__'), mp(1), packed.subarray(at + 1)]));
}

function keyedFrame(encoding: EncodingName, key: string): FrameSpec {
  if (encoding === 'json') return rawDataFrame('json', `{"op":"ping","id":1,${JSON.stringify(key)}:1}`);
  return rawDataFrame('msgpack', Buffer.concat([Buffer.from([0x83]), mp('op'), mp('ping'), mp('id'), mp(1), mp(key), mp(1)]));
}
