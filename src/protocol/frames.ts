import { z } from 'zod';
import { ErrorDetailSchema } from '../errors.js';
import { ENCODING_NAMES } from './encoding.js';
import { ChannelNameSchema, EntrySchema } from '../signal/schema.js';

/**
 * The /v1 WebSocket protocol: every frame in both directions. docs/protocol.md documents these
 * schemas (a test checks that every frame type here appears there).
 * JSON connections carry these objects as text frames; msgpack connections as binary frames.
 */

/** A client-chosen request id, echoed in the answer. */
export const RequestIdSchema = z.union([z.string().max(64), z.number().int()]);
export type RequestId = z.infer<typeof RequestIdSchema>;

export const MAX_REPLAY = 1000;
/** Bounds of a conflated subscription's interval, in ms. */
export const CONFLATE_MIN_MS = 10;
export const CONFLATE_MAX_MS = 60_000;

// ---- client -> server ----

export const SubscribeFrameSchema = z.strictObject({
  op: z.literal('subscribe'),
  id: RequestIdSchema.optional(),
  channel: ChannelNameSchema,
  /** Resume: entries with seq > since, when `epoch` is still the channel's epoch. */
  since: z.number().int().nonnegative().optional(),
  /** '' is the epoch of a channel with no history yet (as `subscribed` and `live` report it). */
  epoch: z.string().max(64).optional(),
  /** Start with the newest `last` entries (ignored when `since` is given). Absent with no `since`: live only. */
  last: z.number().int().min(0).max(MAX_REPLAY).optional(),
  /** After the replay, at most one entry (the newest) per this many ms, each saying how many it replaced. */
  conflate: z.number().int().min(CONFLATE_MIN_MS).max(CONFLATE_MAX_MS).optional(),
  /** Live entries stored together (one publish, one announcement) may arrive as one `entries` frame. */
  batch: z.boolean().optional(),
});

export const UnsubscribeFrameSchema = z.strictObject({
  op: z.literal('unsubscribe'),
  id: RequestIdSchema.optional(),
  channel: ChannelNameSchema,
});

export const PublishFrameSchema = z.strictObject({
  op: z.literal('publish'),
  id: RequestIdSchema,
  /** One signal or an array of them (validated item by item like HTTP ingest); each may name its `channels`. */
  signals: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]),
});

export const PingFrameSchema = z.strictObject({
  op: z.literal('ping'),
  id: RequestIdSchema.optional(),
});

/** Replaces the connection's credential (a fresh JWT before the old one expires, or a first one). */
export const AuthFrameSchema = z.strictObject({
  op: z.literal('auth'),
  id: RequestIdSchema.optional(),
  token: z.string().min(1).max(8192),
});

export const ClientFrameSchema = z.discriminatedUnion('op', [
  SubscribeFrameSchema,
  UnsubscribeFrameSchema,
  PublishFrameSchema,
  PingFrameSchema,
  AuthFrameSchema,
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type SubscribeFrame = z.infer<typeof SubscribeFrameSchema>;
export const CLIENT_OPS = ['subscribe', 'unsubscribe', 'publish', 'ping', 'auth'] as const;

// ---- server -> client ----

/** What this server offers beyond version 1's first frames; a client asks for one only when the welcome lists it. */
export const SERVER_FEATURES = ['batch'] as const;

export const WelcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  version: z.literal(1),
  node: z.string(),
  encoding: z.enum(ENCODING_NAMES),
  heartbeatSeconds: z.number(),
  limits: z.object({ maxFrameBytes: z.number(), maxSubscriptions: z.number(), maxBatch: z.number() }),
  /** Who the connection acts as (`anonymous`, `key:<name>`, `jwt:<sub>`). */
  principal: z.string().optional(),
  /** SERVER_FEATURES; absent from servers that have none (a client ignores names it does not know). */
  features: z.array(z.string()).optional(),
});

export const SubscribedFrameSchema = z.object({
  type: z.literal('subscribed'),
  id: RequestIdSchema.optional(),
  channel: ChannelNameSchema,
  epoch: z.string(),
  /** Newest seq in the channel when the replay was cut. */
  headSeq: z.number().int().nonnegative(),
  /** How many entries the replay that follows holds. */
  replay: z.number().int().nonnegative(),
});

/** The requested position could not be honoured; the replay that follows starts at `fromSeq`. */
export const ResetFrameSchema = z.object({
  type: z.literal('reset'),
  channel: ChannelNameSchema,
  reason: z.enum(['truncated', 'epoch_changed']),
  epoch: z.string(),
  fromSeq: z.number().int().nonnegative(),
  requested: z.object({ since: z.number().int(), epoch: z.string().optional() }),
});

export const EntryFrameSchema = EntrySchema.extend({
  type: z.literal('entry'),
  /** On a conflated subscription: how many entries of the channel came since the previous one it got, left out for this newer one. */
  replaced: z.number().int().nonnegative().optional(),
});

/** At most this many entries in one `entries` frame; a larger store arrives as several, in order. */
export const MAX_ENTRIES_PER_FRAME = 100;

/** Live entries of one channel stored together, in seq order, for a subscription that asked for `batch`. */
export const EntriesFrameSchema = z.object({
  type: z.literal('entries'),
  channel: ChannelNameSchema,
  entries: z.array(EntrySchema).min(2).max(MAX_ENTRIES_PER_FRAME),
});

/** The replay is done: every entry after this one arrives live. */
export const LiveFrameSchema = z.object({
  type: z.literal('live'),
  channel: ChannelNameSchema,
  epoch: z.string(),
  seq: z.number().int().nonnegative(),
});

export const UnsubscribedFrameSchema = z.object({
  type: z.literal('unsubscribed'),
  id: RequestIdSchema.optional(),
  channel: ChannelNameSchema,
});

/** Where one published signal was stored (or found already stored, when `duplicate`). */
export const AckedEntrySchema = z.object({
  channel: ChannelNameSchema,
  seq: z.number().int(),
  epoch: z.string(),
  id: z.string(),
  duplicate: z.boolean(),
});
export type AckedEntry = z.infer<typeof AckedEntrySchema>;

export const AckFrameSchema = z.object({
  type: z.literal('ack'),
  id: RequestIdSchema,
  entries: z.array(AckedEntrySchema),
});

/** The `auth` frame's token is accepted: the connection now acts as `principal` until `expiresAt`. */
export const AuthedFrameSchema = z.object({
  type: z.literal('authed'),
  id: RequestIdSchema.optional(),
  principal: z.string(),
  scope: z.string(),
  /** ms since the epoch; absent for credentials that do not expire (API keys). */
  expiresAt: z.number().int().optional(),
});

export const PongFrameSchema = z.object({ type: z.literal('pong'), id: RequestIdSchema.optional(), ts: z.number() });

export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  id: RequestIdSchema.optional(),
  code: z.string(),
  message: z.string(),
  channel: ChannelNameSchema.optional(),
  details: z.array(ErrorDetailSchema).optional(),
  /** For `rate_limited` and other retryable errors: how long to wait before retrying, in ms. */
  retryAfterMs: z.number().int().nonnegative().optional(),
  /** How many details there were, when `details` lists only the first MAX_ERROR_DETAILS. */
  detailCount: z.number().int().optional(),
});

export const ServerFrameSchema = z.discriminatedUnion('type', [
  WelcomeFrameSchema,
  SubscribedFrameSchema,
  ResetFrameSchema,
  EntryFrameSchema,
  EntriesFrameSchema,
  LiveFrameSchema,
  UnsubscribedFrameSchema,
  AckFrameSchema,
  PongFrameSchema,
  ErrorFrameSchema,
  AuthedFrameSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type WelcomeFrame = z.infer<typeof WelcomeFrameSchema>;
export type SubscribedFrame = z.infer<typeof SubscribedFrameSchema>;
export type ResetFrame = z.infer<typeof ResetFrameSchema>;
export type EntryFrame = z.infer<typeof EntryFrameSchema>;
export type EntriesFrame = z.infer<typeof EntriesFrameSchema>;
export type LiveFrame = z.infer<typeof LiveFrameSchema>;
export type AckFrame = z.infer<typeof AckFrameSchema>;
export type AuthedFrame = z.infer<typeof AuthedFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export const SERVER_TYPES = ServerFrameSchema.options.map((option) => option.shape.type.value);
