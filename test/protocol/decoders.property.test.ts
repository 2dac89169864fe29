// Property-based tests (fast-check) over what a client controls: the frame decoders of both
// encodings, the publish schema, and the head check. Nothing throws but the documented validation
// errors; what the decoders let through is plain data; valid signals round-trip unchanged.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_DETAILS, SigcastError } from '../../src/errors.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { ENCODINGS, type Encoding } from '../../src/protocol/encoding.js';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import { parseClientFrame } from '../../src/protocol/parse-client-frame.js';
import { FORBIDDEN_KEYS, MAX_DEPTH } from '../../src/protocol/strict-data.js';
import { planPublish } from '../../src/signal/publish-request.js';
import { SIDES, SignalSchema, type SignalInput } from '../../src/signal/schema.js';
import { checkRequestHead } from '../../src/transport/request-head.js';

/** The default caps of MAX_CHANNELS_PER_SIGNAL and MAX_SIGNAL_BYTES. */
const PUBLISH_LIMITS = { maxChannelsPerSignal: 16, maxSignalBytes: 16_384 };

const RUNS = { numRuns: 1000 };

/** Calls `fn`; a throw must be a SigcastError with one of `codes`. */
function onlyThrows(codes: readonly string[], fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(SigcastError);
    expect(codes).toContain((error as SigcastError).code);
    return undefined;
  }
}

/** Plain data: what JSON.parse could have built, with no prototype keys and bounded depth. */
function isPlain(value: unknown, depth = 0): boolean {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.every((item) => isPlain(item, depth + 1));
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.keys(value).every((key) => !FORBIDDEN_KEYS.has(key) && isPlain((value as Record<string, unknown>)[key], depth + 1));
}

const encoding = fc.constantFrom<Encoding>('json', 'msgpack');
/** msgpackr configured every way a client might: records, structured clones, more types, bigints. */
const anyPackr = fc
  .record({ useRecords: fc.boolean(), structuredClone: fc.boolean(), moreTypes: fc.boolean(), bundleStrings: fc.boolean(), useBigIntExtension: fc.boolean() })
  .map((options) => new Packr(options));

describe('frame decoders', () => {
  it('arbitrary bytes: decoded to plain data, or bad_json / bad_msgpack / wrong_encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), encoding, (bytes, binary, name) => {
        const value = onlyThrows(['bad_json', 'bad_msgpack', 'wrong_encoding'], () => decodeFrame(bytes, binary, name));
        expect(isPlain(value)).toBe(true);
      }),
      RUNS,
    );
  });

  it('whatever msgpackr packs, whichever its options: plain data, or bad_msgpack', () => {
    fc.assert(
      fc.property(anyPackr, fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }), (packr, value) => {
        let bytes: Uint8Array;
        try {
          bytes = packr.pack(value);
        } catch {
          return; // not packable with these options (e.g. a huge bigint without its extension)
        }
        const decoded = onlyThrows(['bad_msgpack'], () => ENCODINGS.msgpack.decode(bytes));
        expect(isPlain(decoded)).toBe(true);
      }),
      RUNS,
    );
  });

  it('plain JSON values round-trip through both encodings unchanged', () => {
    const plain = fc.jsonValue({ maxDepth: 6 }).filter((value) => isPlain(value));
    fc.assert(
      fc.property(plain, encoding, (value, name) => {
        const frame = encodeFrame(value, name);
        const bytes = typeof frame.payload === 'string' ? new TextEncoder().encode(frame.payload) : frame.payload;
        // JSON has no -0; compare as JSON does.
        expect(JSON.stringify(decodeFrame(bytes, frame.binary, name))).toEqual(JSON.stringify(value));
      }),
      RUNS,
    );
  });

  it('decoded frames are parsed into a client frame or one of its documented errors', () => {
    const frameLike = fc.oneof(
      fc.record({ op: fc.constantFrom('subscribe', 'unsubscribe', 'publish', 'ping', 'frob'), id: fc.oneof(fc.string(), fc.integer(), fc.object()), channel: fc.string(), since: fc.oneof(fc.integer(), fc.double()), last: fc.integer() }, { requiredKeys: ['op'] }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(frameLike, encoding, (value, name) => {
        const frame = encodeFrame(value, name);
        const bytes = typeof frame.payload === 'string' ? new TextEncoder().encode(frame.payload) : frame.payload;
        onlyThrows(['bad_json', 'bad_msgpack', 'unknown_op', 'invalid_frame', 'invalid_channel'], () => parseClientFrame(decodeFrame(bytes, frame.binary, name)));
      }),
      RUNS,
    );
  });
});

// ---- the signal schema ----

const symbol = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$/);
const metaValue = fc.oneof(fc.string({ maxLength: 256 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const metaKey = fc.string({ minLength: 1, maxLength: 64 }).filter((key) => !FORBIDDEN_KEYS.has(key));
const validSignal: fc.Arbitrary<SignalInput> = fc.record(
  {
    symbol,
    side: fc.constantFrom(...SIDES),
    strength: fc.double({ min: 0, max: 1, noNaN: true }),
    price: fc.double({ min: 1e-9, max: 1e12, noNaN: true }),
    strategy: fc.string({ minLength: 1, maxLength: 64 }),
    ts: fc.nat(),
    id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
    meta: fc.dictionary(metaKey, metaValue, { maxKeys: 32 }),
  },
  { requiredKeys: ['symbol', 'side', 'strength'] },
);

describe('the signal schema', () => {
  it('valid signals round-trip unchanged through JSON and msgpack, and validate as they were', () => {
    fc.assert(
      fc.property(validSignal, encoding, (signal, name) => {
        const frame = ENCODINGS[name].encode(signal);
        const bytes = typeof frame.payload === 'string' ? new TextEncoder().encode(frame.payload) : frame.payload;
        const decoded = ENCODINGS[name].decode(bytes);
        const parsed = SignalSchema.parse(decoded);
        // -0 survives msgpack but not JSON: compare as JSON sees them.
        const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
        expect(asJson(parsed)).toEqual(asJson(signal));
        // Stored as sent, with only ts and id stamped when absent.
        const stamped = planPublish(decoded, { ...PUBLISH_LIMITS, maxBatch: 10 }).batches[0]!.signals[0]!;
        expect(asJson(stamped)).toEqual(asJson({ ...signal, ts: signal.ts ?? stamped.ts, id: signal.id ?? stamped.id }));
      }),
      RUNS,
    );
  });

  it('anything as a publish body: a plan, or invalid_signal / empty_batch / batch_too_large with at most 20 details', () => {
    const item = fc.oneof(validSignal, fc.anything(), fc.record({ symbol: fc.string(), side: fc.string(), strength: fc.double(), channels: fc.array(fc.string()) }));
    const body = fc.oneof(item, fc.array(item, { maxLength: 30 }), fc.record({ signals: fc.array(item, { maxLength: 30 }) }));
    fc.assert(
      fc.property(body, (value) => {
        try {
          planPublish(value, { ...PUBLISH_LIMITS, maxBatch: 20 });
        } catch (error) {
          expect(error).toBeInstanceOf(SigcastError);
          const known = error as SigcastError;
          expect(['invalid_signal', 'empty_batch', 'batch_too_large']).toContain(known.code);
          expect(known.details?.length ?? 0).toBeLessThanOrEqual(MAX_ERROR_DETAILS);
        }
      }),
      RUNS,
    );
  });
});

describe('the head check', () => {
  it('never throws, and refuses with a status of the catalog that closes the connection', () => {
    const header = fc.tuple(fc.oneof(fc.constantFrom('host', 'content-length', 'transfer-encoding'), fc.string({ maxLength: 20 })), fc.string({ maxLength: 300 }));
    fc.assert(
      fc.property(fc.constantFrom('1.0', '1.1', '2.0', '0.9'), fc.string({ maxLength: 600 }), fc.array(header, { maxLength: 60 }), (version, target, headers) => {
        const answer = checkRequestHead({ version, target, headers }, { maxUrlBytes: 500, maxHeaderBytes: 2000, maxBodyBytes: 1000 });
        if (answer === undefined) return;
        expect([400, 413, 414, 431, 505]).toContain(answer.status);
        expect(answer.headers?.['connection']).toBe('close');
      }),
      RUNS,
    );
  });
});

it('msgpack options stay the documented ones', () => {
  expect(MSGPACK_OPTIONS).toEqual({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
});
