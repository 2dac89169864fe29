// One subscriber's membership of one channel, as the hub hands it out. Its `unsubscribe()` is
// the only way out, and it is safe in every state: while joining (the join is abandoned), once
// active (the subscriber leaves), and again (nothing happens). The caller keeps no copy of the
// state: whatever order closes, timeouts and joins happen in, a membership is released once.

export interface HubSubscription {
  readonly channel: string;
  /** The interval (ms) of a conflated subscription; undefined for an exact one. */
  readonly conflate: number | undefined;
  /**
   * Resolves true once the replay was sent and the subscriber joined the live stream, false when
   * it was unsubscribed (or its connection closed) first; rejects with a SigcastError when the
   * channel cannot be synced.
   */
  readonly joined: Promise<boolean>;
  unsubscribe(): void;
  /**
   * The connection fell further behind than MAX_LAG_MS: a conflated subscription stops getting
   * entries until its reader caught up, then gets the newest one (its `replaced` counting all it
   * skipped). Returns false, doing nothing, for an exact subscription: that one cannot skip.
   */
  skipAhead(): boolean;
}

export type MembershipState = 'joining' | 'active' | 'done';

/** The hub's side of a membership: its state and what leaving costs once active. */
export class Membership implements HubSubscription {
  state: MembershipState = 'joining';
  joined!: Promise<boolean>;
  /** Set when the membership becomes active: undoes exactly what joining did. */
  leave: (() => void) | undefined;
  /** Set when a conflated membership becomes active. */
  skip: (() => void) | undefined;
  /** Set while joining: gives up the place it holds (in the admission queue, say). */
  abandon: (() => void) | undefined;

  constructor(
    readonly channel: string,
    readonly conflate: number | undefined = undefined,
  ) {}

  skipAhead(): boolean {
    if (this.conflate === undefined) return false;
    if (this.state === 'active') this.skip?.();
    return true;
  }

  unsubscribe(): void {
    const previous = this.state;
    this.state = 'done';
    if (previous === 'active') this.leave?.();
    if (previous === 'joining') this.abandon?.();
    this.leave = undefined;
    this.skip = undefined;
    this.abandon = undefined;
  }
}
