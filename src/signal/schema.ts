import { z } from 'zod';

/**
 * Wire types of what bots publish and what subscribers receive.
 * These schemas are the single source of truth: TypeScript types are inferred from them.
 */

/** Channel names: a short safe alphabet, no braces (they would break Redis Cluster hash tags). */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const ChannelNameSchema = z
  .string()
  .regex(CHANNEL_NAME_PATTERN, 'channel must be 1-64 chars of A-Z a-z 0-9 . _ : - and start with a letter or digit');
export type ChannelName = z.infer<typeof ChannelNameSchema>;

export const SIDES = ['BUY', 'SELL', 'HOLD', 'CLOSE'] as const;
export const SideSchema = z.enum(SIDES);
export type Side = z.infer<typeof SideSchema>;

/** What one meta field may hold. */
export type MetaValue = string | number | boolean | null;
export const META_LIMITS = { keys: 32, keyLength: 64, stringLength: 256 } as const;

/** Why one meta field is refused, or undefined: a key of 1-64 chars; a string of at most 256, a finite number, a boolean or null. */
function metaFieldProblem(key: string, value: unknown): string | undefined {
  if (key.length === 0 || key.length > META_LIMITS.keyLength) return `meta keys must be 1-${META_LIMITS.keyLength} chars`;
  switch (typeof value) {
    case 'string':
      return value.length <= META_LIMITS.stringLength ? undefined : `meta strings may hold at most ${META_LIMITS.stringLength} chars`;
    case 'number':
      return Number.isFinite(value) ? undefined : 'meta numbers must be finite';
    case 'boolean':
      return undefined;
    default:
      return value === null ? undefined : 'meta values must be a string, a finite number, a boolean or null';
  }
}

/**
 * A small, flat, bounded bag of extra fields for strategies (no nesting, so its size stays
 * predictable). Checked in one pass over its fields: as a zod record of a key schema and a union
 * of value schemas it cost two thirds of validating a whole signal. The object itself is kept
 * (it is fresh from the decoder, which refuses prototype keys).
 */
export const MetaSchema = z
  .custom<Record<string, MetaValue>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'meta must be an object')
  .superRefine((meta, ctx) => {
    let count = 0;
    for (const key in meta) {
      count += 1;
      const problem = metaFieldProblem(key, meta[key]);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
    }
    if (count > META_LIMITS.keys) ctx.addIssue({ code: 'custom', message: `meta may hold at most ${META_LIMITS.keys} keys` });
  });

/** Publisher idempotency key; the server generates a ULID when it is absent. */
export const SignalIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'id must be 1-64 chars of A-Z a-z 0-9 . _ : -');

export const SignalSchema = z.strictObject({
  symbol: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$/, 'symbol must be 1-32 chars of A-Z a-z 0-9 . _ : - (it names the default channel)'),
  side: SideSchema,
  strength: z.number().min(0).max(1),
  price: z.number().finite().positive().optional(),
  strategy: z.string().min(1).max(64).optional(),
  ts: z.number().int().nonnegative().optional(),
  id: SignalIdSchema.optional(),
  meta: MetaSchema.optional(),
});
/** A signal as a bot sends it (ts and id optional). */
export type SignalInput = z.infer<typeof SignalSchema>;

/** A signal as it is stored and delivered: the server has stamped `ts` and `id`. */
export type Signal = SignalInput & { ts: number; id: string };

/** The most channels MAX_CHANNELS_PER_SIGNAL may allow; the configured limit is checked at ingest. */
export const CHANNELS_PER_SIGNAL_CEILING = 256;

/** What one publish item may carry besides the signal: the channels it goes to (default: its symbol). */
export const PublishItemSchema = SignalSchema.extend({
  channels: z.array(ChannelNameSchema).min(1).max(CHANNELS_PER_SIGNAL_CEILING).optional(),
});
export type PublishItem = z.infer<typeof PublishItemSchema>;

/** What is stored in a channel's history and delivered to subscribers. */
export const EntrySchema = z.object({
  channel: ChannelNameSchema,
  seq: z.number().int().positive(),
  epoch: z.string().min(1),
  ts: z.number().int().nonnegative(),
  signal: SignalSchema.extend({ ts: z.number().int().nonnegative(), id: SignalIdSchema }),
});
export type Entry = z.infer<typeof EntrySchema>;
