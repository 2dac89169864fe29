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

const MetaValueSchema = z.union([z.string().max(256), z.number().finite(), z.boolean(), z.null()]);
/** A small, flat, bounded bag of extra fields for strategies (no nesting, so its size stays predictable). */
export const MetaSchema = z
  .record(z.string().min(1).max(64), MetaValueSchema)
  .refine((meta) => Object.keys(meta).length <= 32, 'meta may hold at most 32 keys');

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
