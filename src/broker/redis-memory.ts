// What one channel may cost Redis: HISTORY_SIZE entries of at most MAX_SIGNAL_BYTES each, with
// their envelope, the id record and Redis's own overhead. The README states this bound and
// test/broker/redis-memory.test.ts measures it with MEMORY USAGE.

/** `{"channel":"<64>","seq":<16>,"epoch":"<16>","ts":<16>,"signal":` and the closing brace. */
export const ENTRY_ENVELOPE_BYTES = 192;
/** A list node, the id's sorted-set member (at most 64 bytes) and score, its skiplist node and dict entry. */
export const PER_ENTRY_OVERHEAD_BYTES = 512;
/** The allocator rounds each allocation up to its size class (jemalloc: at most a quarter more). */
export const ALLOCATOR_SLACK = 1.25;
/** The three keys themselves, their expiry records and the meta hash. */
export const PER_CHANNEL_BYTES = 4096;

/** Bytes of Redis memory one channel holds at most (its log, meta and ids keys). */
export function channelMemoryBound(historySize: number, maxSignalBytes: number): number {
  const perEntry = (maxSignalBytes + ENTRY_ENVELOPE_BYTES) * ALLOCATOR_SLACK + PER_ENTRY_OVERHEAD_BYTES;
  return Math.ceil(historySize * perEntry + PER_CHANNEL_BYTES);
}
