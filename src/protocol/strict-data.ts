// What a decoded body or frame may be, in either encoding: plain data (objects, arrays, strings,
// numbers, booleans, null), nested at most MAX_DEPTH levels, with no key that names a prototype
// slot. msgpack is checked on its bytes before msgpackr decodes them (msgpackr would build
// records, dates, regexps, sets, bigints and cycles, and rename `__proto__`); JSON after
// JSON.parse, which only ever builds plain data. Pure; each returns a problem, or undefined.
import { isUtf8 } from 'node:buffer';

/** Levels of nested objects and arrays a value may have (the protocol's frames need 4). */
export const MAX_DEPTH = 32;

/** Keys no object of the protocol may carry, in any encoding. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const TOO_DEEP = `nested deeper than ${MAX_DEPTH} levels`;
const EXTENSION = 'msgpack extension types (records, dates, bigints, ...) are not part of the protocol';
const forbidden = (key: string): string => `the key ${JSON.stringify(key)} is not allowed`;

/** Walks a value JSON.parse returned. Depth-bounded, so a 1 MiB `[[[[...` costs nothing. */
export function jsonProblem(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  // for-in sees `__proto__` too: JSON.parse makes it an own property, not the prototype.
  for (const key in record) {
    if (FORBIDDEN_KEYS.has(key)) return forbidden(key);
    const problem = jsonProblem(record[key], depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

class Problem {
  constructor(readonly message: string) {}
}

/**
 * Reads msgpack's structure without building anything: exactly one value spanning all the bytes;
 * nil, booleans, integers, floats, UTF-8 strings, arrays and maps with string keys only, and
 * msgpackr's `undefined` (an absent value). Binary values, every other extension type (msgpackr's
 * records, bundled strings, structured clones, dates, bigints, ...) and the never-used byte 0xc1
 * are refused.
 */
export function msgpackProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty';
  const reader = new Scanner(bytes);
  try {
    reader.value(0, false);
    if (reader.position !== bytes.length) return 'trailing bytes after the value';
    return undefined;
  } catch (error) {
    if (error instanceof Problem) return error.message;
    throw error;
  }
}

class Scanner {
  position = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(depth: number, asKey: boolean): void {
    const byte = this.take(1);
    const type = this.bytes[byte]!;
    if ((type & 0xe0) === 0xa0) return this.string(type & 0x1f, asKey);
    if (type === 0xd9 || type === 0xda || type === 0xdb) return this.string(this.uint(type === 0xd9 ? 1 : type === 0xda ? 2 : 4), asKey);
    if (asKey) throw new Problem('map keys must be strings');
    if (type <= 0x7f || type >= 0xe0 || type === 0xc0 || type === 0xc2 || type === 0xc3) return;
    if ((type & 0xf0) === 0x80) return this.map(type & 0x0f, depth);
    if ((type & 0xf0) === 0x90) return this.array(type & 0x0f, depth);
    switch (type) {
      case 0xdc:
      case 0xdd:
        return this.array(this.uint(type === 0xdc ? 2 : 4), depth);
      case 0xde:
      case 0xdf:
        return this.map(this.uint(type === 0xde ? 2 : 4), depth);
      case 0xcc:
      case 0xd0:
        return void this.take(1);
      case 0xcd:
      case 0xd1:
        return void this.take(2);
      case 0xca:
      case 0xce:
      case 0xd2:
        return void this.take(4);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return void this.take(8);
      case 0xc1:
        throw new Problem('reserved byte 0xc1');
      case 0xc4:
      case 0xc5:
      case 0xc6:
        throw new Problem('binary values are not part of the protocol');
      case 0xd4:
        // fixext 1 of type 0, data 0: how msgpackr (and notepack) write `undefined`, read as absent.
        if (this.bytes[this.position] === 0 && this.bytes[this.position + 1] === 0) return void this.take(2);
        throw new Problem(EXTENSION);
      default:
        // 0xc7-0xc9 and 0xd5-0xd8: ext 8/16/32 and fixext 2-16.
        throw new Problem(EXTENSION);
    }
  }

  private string(length: number, asKey: boolean): void {
    const start = this.take(length);
    const text = this.bytes.subarray(start, start + length);
    if (!isUtf8(text)) throw new Problem('a string is not valid UTF-8');
    if (asKey && length <= 11) {
      const key = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString();
      if (FORBIDDEN_KEYS.has(key)) throw new Problem(forbidden(key));
    }
  }

  private array(count: number, depth: number): void {
    this.enter(count, depth);
    for (let i = 0; i < count; i++) this.value(depth + 1, false);
  }

  private map(count: number, depth: number): void {
    this.enter(count * 2, depth);
    for (let i = 0; i < count; i++) {
      this.value(depth + 1, true);
      this.value(depth + 1, false);
    }
  }

  /** A container of `items` values at `depth`: each needs a byte at least, so a huge count fails at once. */
  private enter(items: number, depth: number): void {
    if (depth + 1 > MAX_DEPTH) throw new Problem(TOO_DEEP);
    if (items > this.bytes.length - this.position) throw new Problem('truncated');
  }

  private uint(size: 1 | 2 | 4): number {
    const at = this.take(size);
    return size === 1 ? this.view.getUint8(at) : size === 2 ? this.view.getUint16(at) : this.view.getUint32(at);
  }

  /** Consumes `count` bytes; returns where they start. */
  private take(count: number): number {
    const at = this.position;
    if (at + count > this.bytes.length) throw new Problem('truncated');
    this.position = at + count;
    return at;
  }
}
