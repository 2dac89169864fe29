import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { jsonProblem, MAX_DEPTH, msgpackProblem } from '../../src/protocol/strict-data.js';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';

const packr = new Packr(MSGPACK_OPTIONS);
const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('msgpackProblem', () => {
  it('accepts plain data of every msgpack kind it reads', () => {
    for (const value of [null, true, false, 0, -1, 127, -32, 255, 65_535, 2 ** 32, -(2 ** 40), 1.5, '', 'x'.repeat(40), 'é'.repeat(300), [], {}, { a: [1, { b: 'c' }] }, nested(MAX_DEPTH)]) {
      expect(msgpackProblem(packr.pack(value)), JSON.stringify(value)).toBeUndefined();
    }
    expect(msgpackProblem(hex('cb 3ff8000000000000'))).toBeUndefined(); // float 64
    expect(msgpackProblem(hex('ca 3fc00000'))).toBeUndefined(); // float 32
    expect(msgpackProblem(hex('de 0001 a1 61 01'))).toBeUndefined(); // map 16
    expect(msgpackProblem(hex('dc 0001 c0'))).toBeUndefined(); // array 16
    expect(msgpackProblem(packr.pack({ price: undefined }))).toBeUndefined(); // msgpackr's undefined: d4 00 00
  });

  it.each([
    ['nothing', '', 'empty'],
    ['0xc1', 'c1', 'reserved byte 0xc1'],
    ['bin 8', 'c4 01 00', 'binary'],
    ['fixext 1 (msgpackr record definition)', 'd4 72 40', 'extension'],
    ['fixext 1 of type 0 with data', 'd4 00 01', 'extension'],
    ['fixext 4 (timestamp)', 'd6 ff 00000000', 'extension'],
    ['ext 8', 'c7 01 05 00', 'extension'],
    ['a truncated string', 'a5 61 62', 'truncated'],
    ['a truncated array', '93 01 02', 'truncated'],
    ['an array claiming 2^32-1 items', 'dd ffffffff 01', 'truncated'],
    ['trailing bytes', '01 02', 'trailing'],
    ['an integer key', '81 01 02', 'map keys must be strings'],
    ['a nil key', '81 c0 02', 'map keys must be strings'],
    ['an array key', '81 90 02', 'map keys must be strings'],
    ['__proto__', '81 a9 5f5f70726f746f5f5f 01', '"__proto__"'],
    ['constructor', '81 ab 636f6e7374727563746f72 01', '"constructor"'],
    ['prototype', '81 a9 70726f746f74797065 01', '"prototype"'],
    ['invalid UTF-8', 'a2 ff fe', 'UTF-8'],
    ['a lone surrogate in UTF-8', 'a3 eda080', 'UTF-8'],
  ])('refuses %s', (_name, bytes, problem) => {
    expect(msgpackProblem(hex(bytes))).toContain(problem);
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} levels, even 100,000 deep, without recursing into it`, () => {
    expect(msgpackProblem(packr.pack(nested(MAX_DEPTH + 1)))).toContain('nested');
    expect(msgpackProblem(Buffer.alloc(100_000, 0x91))).toContain('nested');
  });

  it('checks keys by value, not prefix: longer and shorter names are fine', () => {
    expect(msgpackProblem(packr.pack({ __proto__x: 1, proto: 2, constructors: 3 }))).toBeUndefined();
  });
});

describe('jsonProblem', () => {
  it('accepts plain data', () => {
    for (const text of ['null', '1', '"s"', '[]', '{}', '{"a":[1,{"b":null}]}', JSON.stringify(nested(MAX_DEPTH))]) {
      expect(jsonProblem(JSON.parse(text)), text).toBeUndefined();
    }
  });

  it('refuses prototype keys at any depth, as JSON.parse writes them (own properties)', () => {
    expect(jsonProblem(JSON.parse('{"__proto__":{"x":1}}'))).toContain('"__proto__"');
    expect(jsonProblem(JSON.parse('{"a":[{"constructor":1}]}'))).toContain('"constructor"');
    expect(jsonProblem(JSON.parse('{"a":{"b":{"prototype":0}}}'))).toContain('"prototype"');
    expect(jsonProblem(JSON.parse('{"__pro\\u0074o__":1}'))).toContain('"__proto__"');
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} levels`, () => {
    expect(jsonProblem(nested(MAX_DEPTH + 1))).toContain('nested');
    expect(jsonProblem(JSON.parse('['.repeat(50_000) + ']'.repeat(50_000)))).toContain('nested');
  });
});
