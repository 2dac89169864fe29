/**
 * Redis key naming. Every key of a channel carries the channel as a hash tag (`{channel}`), so the
 * append script, which touches all of them, stays valid on a Redis Cluster (one slot per channel).
 * Channel names cannot contain braces (see CHANNEL_NAME_PATTERN), so the tag is always exactly the name.
 */
export interface ChannelKeys {
  /** List of entry JSON strings, newest first (LPUSH), trimmed to the history size. */
  readonly log: string;
  /** Hash with `epoch` and `seq` (the head seq of the current epoch). */
  readonly meta: string;
  /** Sorted set: member = signal id, score = seq; trimmed with the log to bound idempotency memory. */
  readonly ids: string;
  /** Pub/sub channel on which each appended batch is announced as one message: its entries' JSON, one per line. */
  readonly live: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const base = prefix === '' ? `{${channel}}` : `${prefix}:{${channel}}`;
  return { log: `${base}:log`, meta: `${base}:meta`, ids: `${base}:ids`, live: `${base}:live` };
}
