import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigcastError } from '../../src/errors.js';
import { queryInteger } from '../../src/http/query.js';

const parse = (query: string, max = Number.MAX_SAFE_INTEGER) => queryInteger(new URLSearchParams(query), 'n', max);
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'none';
  } catch (error) {
    return error instanceof SigcastError ? error.code : 'thrown';
  }
};

describe('queryInteger', () => {
  it('reads an absent parameter as undefined and digits as their number', () => {
    expect(parse('')).toBeUndefined();
    expect(parse('other=1')).toBeUndefined();
    expect(parse('n=0')).toBe(0);
    expect(parse('n=007')).toBe(7);
    expect(parse('n=9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parse('n=1000', 1000)).toBe(1000);
  });

  it.each(['n=', 'n=0x10', 'n=1e3', 'n=%2B1', 'n=-1', 'n=1.0', 'n=%201', 'n=1%20', 'n=Infinity', 'n=NaN', 'n=9007199254740992', 'n=99999999999999999', 'n=1&n=1', 'n=1001'])(
    'refuses %s with bad_request',
    (query) => {
      expect(codeOf(() => parse(query, query === 'n=1001' ? 1000 : Number.MAX_SAFE_INTEGER))).toBe('bad_request');
    },
  );

  it('does not echo the value it refuses', () => {
    try {
      parse(`n=${'9'.repeat(5000)}x`);
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(100);
    }
  });

  it('property: any value is either its exact decimal number in range, or bad_request', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,18}$/), fc.nat().map(String)), fc.nat({ max: 2000 }), (value, max) => {
        const query = new URLSearchParams();
        query.set('n', value);
        let result: number | undefined;
        try {
          result = queryInteger(query, 'n', max);
        } catch (error) {
          expect(error).toBeInstanceOf(SigcastError);
          expect((error as SigcastError).code).toBe('bad_request');
          expect(/^[0-9]+$/.test(value) && Number(value) <= max).toBe(false);
          return;
        }
        expect(/^[0-9]+$/.test(value)).toBe(true);
        expect(result).toBe(Number(value));
        expect(result).toBeLessThanOrEqual(max);
      }),
      { numRuns: 2000 },
    );
  });
});
