import { z } from 'zod';
import { MAX_ERROR_DETAILS, SigcastError, type ErrorDetail } from '../errors.js';
import { PublishItemSchema, type PublishItem, type Signal } from './schema.js';
import { newSignalId } from './signal-id.js';
import { oversizedSignalBytes } from './signal-size.js';

/**
 * Turns an untrusted publish body (one signal, an array, or {signals:[...]}) into per-channel
 * batches, validating the whole batch first: one bad item rejects everything.
 */

export interface ChannelBatch {
  channel: string;
  signals: Signal[];
  /** For each signal of this batch, its index in the request (for answers in request order). */
  itemIndexes: number[];
}

export interface PublishPlan {
  batches: ChannelBatch[];
  /** For each request item, the (batch, position) pairs it was placed at, one per target channel. */
  placements: Array<Array<{ batch: number; position: number }>>;
}

/** What one publish may hold (MAX_BATCH, MAX_CHANNELS_PER_SIGNAL, MAX_SIGNAL_BYTES). */
export interface PublishLimits {
  maxBatch: number;
  /** Channels one signal may be sent to: what one signal may cost in stored entries. */
  maxChannelsPerSignal: number;
  /** Largest stored signal, as JSON: with the history size, what one channel may cost in Redis. */
  maxSignalBytes: number;
}

const WrappedSchema = z.object({ signals: z.array(z.unknown()) });

export function planPublish(body: unknown, limits: PublishLimits, now: number = Date.now()): PublishPlan {
  const { maxBatch } = limits;
  const items = unwrapItems(body);
  if (items.length === 0) throw new SigcastError('empty_batch');
  if (items.length > maxBatch) {
    throw new SigcastError('batch_too_large', `batch holds ${items.length} signals; the limit is ${maxBatch}`);
  }
  // Only the first details are kept (the answer lists no more), the rest only counted.
  const details: ErrorDetail[] = [];
  let detailCount = 0;
  const parsed = items.map((item, index) => {
    const result = PublishItemSchema.safeParse(item);
    if (!result.success) {
      for (const issue of result.error.issues) {
        if (++detailCount <= MAX_ERROR_DETAILS) details.push({ index, path: issue.path.join('.') || '(item)', message: issue.message });
      }
      return undefined;
    }
    const channels = result.data.channels;
    if (channels !== undefined && new Set(channels).size > limits.maxChannelsPerSignal) {
      details.push({ index, path: 'channels', message: `at most ${limits.maxChannelsPerSignal} channels per signal` });
      return undefined;
    }
    return result.data;
  });
  if (detailCount > 0) throw new SigcastError('invalid_signal', undefined, details, { detailCount });

  const batchByChannel = new Map<string, number>();
  const plan: PublishPlan = { batches: [], placements: [] };
  parsed.forEach((item, index) => {
    if (!item) return;
    const signal = stampedSignal(item, now);
    const oversized = oversizedSignalBytes(signal, limits.maxSignalBytes);
    if (oversized !== undefined) {
      details.push({ index, path: '(item)', message: `the signal is ${oversized} bytes as JSON; at most ${limits.maxSignalBytes}` });
      return;
    }
    const placements: Array<{ batch: number; position: number }> = [];
    for (const channel of item.channels ? new Set(item.channels) : [item.symbol]) {
      let batchIndex = batchByChannel.get(channel);
      if (batchIndex === undefined) {
        batchIndex = plan.batches.push({ channel, signals: [], itemIndexes: [] }) - 1;
        batchByChannel.set(channel, batchIndex);
      }
      const batch = plan.batches[batchIndex]!;
      placements.push({ batch: batchIndex, position: batch.signals.push(signal) - 1 });
      batch.itemIndexes.push(index);
    }
    plan.placements.push(placements);
  });
  if (details.length > 0) throw new SigcastError('invalid_signal', undefined, details);
  return plan;
}

/**
 * The signal as stored: the item without its routing, with `ts` and `id` stamped when absent.
 * It is exactly what its JSON text parses back to (-0 becomes 0, as JSON writes it), so a broker
 * may hand its own appends to local subscribers as this object and the text it stored.
 */
function stampedSignal(item: PublishItem, now: number): Signal {
  // Built field by field (no rest/spread copies): one allocation with a stable shape per signal.
  const signal: Signal = { symbol: item.symbol, side: item.side, strength: item.strength + 0, ts: (item.ts ?? now) + 0, id: item.id ?? newSignalId(now) };
  if (item.price !== undefined) signal.price = item.price;
  if (item.strategy !== undefined) signal.strategy = item.strategy;
  if (item.meta !== undefined) signal.meta = withoutNegativeZero(item.meta);
  return signal;
}

function withoutNegativeZero(meta: NonNullable<PublishItem['meta']>): NonNullable<PublishItem['meta']> {
  for (const key in meta) {
    if (Object.is(meta[key], -0)) return Object.fromEntries(Object.entries(meta).map(([name, value]) => [name, Object.is(value, -0) ? 0 : value]));
  }
  return meta;
}

function unwrapItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const wrapped = WrappedSchema.safeParse(body);
  if (wrapped.success) return wrapped.data.signals;
  return [body];
}
