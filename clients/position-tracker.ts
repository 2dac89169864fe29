import type { EntryFrame, ResetFrame, SubscribedFrame } from '../src/protocol/frames.js';

/**
 * The pure resume logic of one channel subscription: where the app is (last delivered seq in an
 * epoch), what to ask for on (re)subscribe, and which entries are new. No I/O.
 */

/** The last seq delivered to the app, within `epoch` ('' while the channel had no history yet). */
export interface Position {
  readonly epoch: string;
  readonly seq: number;
}

/** Where a subscription starts: `since` a seq (within `epoch`), the newest `last` entries, or live only. */
export interface StartPosition {
  since?: number;
  epoch?: string;
  last?: number;
}

export class PositionTracker {
  private current: Position | undefined;

  constructor(private readonly start: StartPosition = {}) {
    if (start.since !== undefined) this.current = { epoch: start.epoch ?? '', seq: start.since };
  }

  get position(): Position | undefined {
    return this.current;
  }

  /** The position fields of the next subscribe frame: the app's own position once it has one. */
  request(): StartPosition {
    const position = this.current;
    if (!position) {
      const { since, epoch, last } = this.start;
      return { ...(since !== undefined ? { since } : {}), ...(epoch ? { epoch } : {}), ...(last !== undefined ? { last } : {}) };
    }
    // With the empty epoch (no history yet) since alone replays everything after it, without a reset.
    return { since: position.seq, ...(position.epoch ? { epoch: position.epoch } : {}) };
  }

  /**
   * The server answered a subscribe: the replay that follows holds `replay` entries ending at
   * headSeq. Within the same epoch the app's own position wins, so a node whose feed lags behind
   * the one the app came from cannot make it see an entry twice.
   */
  onSubscribed(frame: Pick<SubscribedFrame, 'epoch' | 'headSeq' | 'replay'>): void {
    if (this.current && this.current.epoch === frame.epoch) return;
    this.current = { epoch: frame.epoch, seq: frame.headSeq - frame.replay };
  }

  /** The position could not be honoured (or history was lost): entries continue at fromSeq. */
  onReset(frame: Pick<ResetFrame, 'epoch' | 'fromSeq'>): void {
    this.current = { epoch: frame.epoch, seq: frame.fromSeq - 1 };
  }

  /** True when the entry is new for the app (and records it); false for a duplicate. */
  accept(entry: Pick<EntryFrame, 'epoch' | 'seq'>): boolean {
    const position = this.current;
    // Another epoch without a reset before it only happens when the channel had no history yet: adopt it.
    if (!position || position.epoch !== entry.epoch || entry.seq > position.seq) {
      this.current = { epoch: entry.epoch, seq: entry.seq };
      return true;
    }
    return false;
  }
}
