// MetaSchema checks meta in one pass instead of as a zod record of a key schema and a value union
// (which cost two thirds of validating a signal). It must accept and refuse exactly what that
// record accepted and refused, and point at the field that is wrong.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MetaSchema } from '../../src/signal/schema.js';

/** The definition it replaces, word for word. */
const RecordMetaSchema = z
  .record(z.string().min(1).max(64), z.union([z.string().max(256), z.number().finite(), z.boolean(), z.null()]))
  .refine((meta) => Object.keys(meta).length <= 32, 'meta may hold at most 32 keys');

const key = fc.oneof(fc.string({ minLength: 0, maxLength: 70 }), fc.constantFrom('', 'k'.repeat(64), 'k'.repeat(65)));
const value = fc.oneof(
  fc.string({ maxLength: 260 }),
  fc.constantFrom('x'.repeat(256), 'x'.repeat(257), Number.NaN, Number.POSITIVE_INFINITY, -0, undefined),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const meta = fc.oneof(
  fc.dictionary(key, value, { maxKeys: 36 }),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.integer(), { minKeys: 30, maxKeys: 36 }),
  fc.constantFrom(null, [], 'text', 42, true),
);

describe('MetaSchema', () => {
  it('accepts exactly what the record-of-union schema accepted, with the same value (fast-check)', () => {
    fc.assert(
      fc.property(meta, (candidate) => {
        const fast = MetaSchema.safeParse(candidate);
        const reference = RecordMetaSchema.safeParse(candidate);
        expect(fast.success).toBe(reference.success);
        // The same fields in the same order (fast-check may build objects without a prototype).
        if (fast.success) expect(Object.entries(fast.data)).toStrictEqual(Object.entries(reference.data!));
      }),
      { numRuns: 2000 },
    );
  });

  it('names the field that is wrong, and the count when there are too many', () => {
    const paths = (candidate: unknown) => MetaSchema.safeParse(candidate).error?.issues.map((issue) => issue.path.join('.'));
    expect(paths({ ok: 1, long: 'x'.repeat(257), nested: { a: 1 } })).toEqual(['long', 'nested']);
    expect(paths({ ['k'.repeat(65)]: 1 })).toEqual(['k'.repeat(65)]);
    expect(paths(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])))).toEqual(['']);
    expect(paths([1])).toEqual(['']);
    expect(MetaSchema.safeParse({ a: 'b', n: 1.5, t: true, z: null }).success).toBe(true);
  });
});
