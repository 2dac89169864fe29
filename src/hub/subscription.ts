// One subscriber's membership of one channel, as the hub hands it out. Its `unsubscribe()` is
// the only way out, and it is safe in every state: while joining (the join is abandoned), once
// active (the subscriber leaves), and again (nothing happens). The caller keeps no copy of the
// state: whatever order closes, timeouts and joins happen in, a membership is released once.

export interface HubSubscription {
  readonly channel: string;
  /**
   * Resolves true once the replay was sent and the subscriber joined the live stream, false when
   * it was unsubscribed (or its connection closed) first; rejects with a SigcastError when the
   * channel cannot be synced.
   */
  readonly joined: Promise<boolean>;
  unsubscribe(): void;
}

export type MembershipState = 'joining' | 'active' | 'done';

/** The hub's side of a membership: its state and what leaving costs once active. */
export class Membership implements HubSubscription {
  state: MembershipState = 'joining';
  joined!: Promise<boolean>;
  /** Set when the membership becomes active: undoes exactly what joining did. */
  leave: (() => void) | undefined;

  constructor(readonly channel: string) {}

  unsubscribe(): void {
    const wasActive = this.state === 'active';
    this.state = 'done';
    if (wasActive) this.leave?.();
    this.leave = undefined;
  }
}
