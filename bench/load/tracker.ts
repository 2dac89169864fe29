/**
 * Completeness accounting for one subscriber: per channel, the next seq it expects. O(1) per entry.
 * A seq above the expected one is a gap (entries lost); below it, a duplicate (or a reordering,
 * which sigcast's guarantees forbid just the same).
 */
export interface ChannelState {
  next: number;
  received: number;
  gaps: number;
  duplicates: number;
  /** Entries the server said it could not deliver (sigcast `reset`); not silent loss. */
  announced: number;
}

export interface Expected {
  /** Last seq acknowledged to the publisher, per channel. */
  [channel: string]: number;
}

export interface Completeness {
  subscriptions: number;
  received: number;
  lost: number;
  duplicated: number;
  announced: number;
  /** Subscriptions that lost or duplicated at least one entry. */
  incomplete: number;
}

export class SeqTracker {
  readonly channels = new Map<string, ChannelState>();

  /** Starts tracking `channel`: the first entry expected is `firstSeq`. */
  expect(channel: string, firstSeq: number): void {
    const state = this.channels.get(channel);
    if (state) state.next = Math.max(state.next, firstSeq);
    else this.channels.set(channel, { next: firstSeq, received: 0, gaps: 0, duplicates: 0, announced: 0 });
  }

  /** Returns false for a duplicate. */
  record(channel: string, seq: number): boolean {
    let state = this.channels.get(channel);
    if (!state) {
      state = { next: 1, received: 0, gaps: 0, duplicates: 0, announced: 0 };
      this.channels.set(channel, state);
    }
    state.received++;
    if (seq === state.next) {
      state.next++;
      return true;
    }
    if (seq < state.next) {
      state.duplicates++;
      return false;
    }
    state.gaps += seq - state.next;
    state.next = seq + 1;
    return true;
  }

  /** The server skipped `count` entries on purpose and said so. */
  announce(channel: string, fromSeq: number): void {
    const state = this.channels.get(channel);
    if (!state || fromSeq <= state.next) return;
    state.announced += fromSeq - state.next;
    state.next = fromSeq;
  }

  /** Highest seq seen on `channel` (0 when none). */
  last(channel: string): number {
    return (this.channels.get(channel)?.next ?? 1) - 1;
  }

  /** Loss counts the gaps plus the tail this subscriber never got up to the last acknowledged seq. */
  completeness(expected: Expected): Completeness {
    const result: Completeness = { subscriptions: 0, received: 0, lost: 0, duplicated: 0, announced: 0, incomplete: 0 };
    for (const [channel, state] of this.channels) {
      const lastAcked = expected[channel] ?? 0;
      const tail = Math.max(0, lastAcked - (state.next - 1));
      const lost = state.gaps + tail;
      result.subscriptions++;
      result.received += state.received;
      result.lost += lost;
      result.duplicated += state.duplicates;
      result.announced += state.announced;
      if (lost > 0 || state.duplicates > 0) result.incomplete++;
    }
    return result;
  }

  /** True when every tracked channel reached its last acknowledged seq. */
  caughtUp(expected: Expected): boolean {
    for (const [channel, state] of this.channels) {
      if (state.next - 1 < (expected[channel] ?? 0)) return false;
    }
    return true;
  }
}
