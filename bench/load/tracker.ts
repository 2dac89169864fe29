/**
 * Completeness accounting for one subscriber: per channel, which seqs arrived (a growable bitmap),
 * so loss and duplicates are exact even when a system reorders; out-of-order arrivals are counted
 * apart (sigcast promises order; peers with concurrent publishers may not keep it).
 */
export interface ChannelState {
  /** First seq this subscriber should get. */
  from: number;
  /** Highest seq seen (from - 1 when none). */
  max: number;
  unique: number;
  received: number;
  duplicates: number;
  reordered: number;
  /** Seqs the server said it could not deliver (sigcast `reset`): not silent loss. */
  announced: number;
  bits: Uint8Array;
}

export interface Expected {
  /** Last seq acknowledged to the publishers, per channel. */
  [channel: string]: number;
}

export function emptyCompleteness(): Completeness {
  return { subscriptions: 0, received: 0, lost: 0, undelivered: 0, duplicated: 0, reordered: 0, announced: 0, incomplete: 0 };
}

/** Adds the counts of `from` to `into` (the reports of several subscriptions or workers). */
export function addCompleteness(into: Completeness, from: Completeness): void {
  into.subscriptions += from.subscriptions;
  into.received += from.received;
  into.lost += from.lost;
  into.undelivered += from.undelivered;
  into.duplicated += from.duplicated;
  into.reordered += from.reordered;
  into.announced += from.announced;
  into.incomplete += from.incomplete;
}

export interface Completeness {
  subscriptions: number;
  received: number;
  /** Missing seqs below the highest one received (holes). */
  lost: number;
  /** Acknowledged seqs above the highest one received when the drain time was over. */
  undelivered: number;
  duplicated: number;
  reordered: number;
  announced: number;
  /** Subscriptions that lost, missed or duplicated at least one entry. */
  incomplete: number;
}

export class SeqTracker {
  readonly channels = new Map<string, ChannelState>();

  /** Starts tracking `channel`: the first entry expected is `firstSeq`. */
  expect(channel: string, firstSeq: number): void {
    if (!this.channels.has(channel)) {
      this.channels.set(channel, { from: firstSeq, max: firstSeq - 1, unique: 0, received: 0, duplicates: 0, reordered: 0, announced: 0, bits: new Uint8Array(128) });
    }
  }

  /** Returns false for a duplicate. */
  record(channel: string, seq: number): boolean {
    let state = this.channels.get(channel);
    if (!state) {
      this.expect(channel, 1);
      state = this.channels.get(channel) as ChannelState;
    }
    state.received++;
    const index = seq - state.from;
    if (index < 0) {
      state.duplicates++;
      return false;
    }
    const byte = index >>> 3;
    if (byte >= state.bits.length) {
      const grown = new Uint8Array(Math.max(state.bits.length * 2, byte + 1));
      grown.set(state.bits);
      state.bits = grown;
    }
    const mask = 1 << (index & 7);
    const current = state.bits[byte] ?? 0;
    if (current & mask) {
      state.duplicates++;
      return false;
    }
    state.bits[byte] = current | mask;
    state.unique++;
    if (seq < state.max) state.reordered++;
    else state.max = seq;
    return true;
  }

  /** The server announced that entries before `fromSeq` will not come (sigcast `reset`). */
  announce(channel: string, fromSeq: number): void {
    const state = this.channels.get(channel);
    if (!state || fromSeq <= state.max + 1) return;
    state.announced += fromSeq - state.max - 1;
    // The skipped range is accounted for (announced), so it is not counted as silent loss.
    for (let seq = state.max + 1; seq < fromSeq; seq++) {
      this.record(channel, seq);
      state.received--;
    }
  }

  /** Highest seq seen on `channel` (0 when none). */
  last(channel: string): number {
    return this.channels.get(channel)?.max ?? 0;
  }

  completeness(expected: Expected): Completeness {
    const result = emptyCompleteness();
    for (const [channel, state] of this.channels) {
      const lastAcked = expected[channel] ?? state.max;
      const undelivered = Math.max(0, lastAcked - state.max);
      const lost = state.max - state.from + 1 - state.unique;
      result.subscriptions++;
      result.received += state.received;
      result.lost += lost;
      result.undelivered += undelivered;
      result.duplicated += state.duplicates;
      result.reordered += state.reordered;
      result.announced += state.announced;
      if (lost > 0 || undelivered > 0 || state.duplicates > 0) result.incomplete++;
    }
    return result;
  }

  /** True when every tracked channel reached its last acknowledged seq. */
  caughtUp(expected: Expected): boolean {
    for (const [channel, state] of this.channels) if (state.max < (expected[channel] ?? 0)) return false;
    return true;
  }
}
