// What this node has seen of each channel it subscribes to, so RedisBroker can tell when a
// channel's history went backwards: Redis replication is asynchronous, so a master that dies (its
// replica promoted) or a Redis restarted from an AOF synced once a second can lose appends that
// were acknowledged and announced. The next appends would then reuse their seqs, and a subscriber
// past them would drop the new entries as duplicates. Seeing it is the only way to know it.
//
// Only what causally precedes a command counts against its reply: the position snapshotted when
// the command was sent (a reply may overtake announcements that arrived on another connection).
// Announcements are compared with earlier announcements only, which arrive in publish order from
// one connection at a time (the sharded subscriber takes them from a channel's current shard only).

export interface SeenPosition {
  epoch: string;
  seq: number;
}

interface Head extends SeenPosition {
  /** Newest seq announced in `epoch` (0 when none yet). */
  announced: number;
  /** Newest seq handed to the listener in `epoch`: announced, or caught up after a re-subscription. */
  handed: number;
}

export type Verdict = 'ok' | 'rewound';

export class SeenHeads {
  private readonly heads = new Map<string, Head>();

  track(channel: string): void {
    if (!this.heads.has(channel)) this.heads.set(channel, { epoch: '', seq: 0, announced: 0, handed: 0 });
  }

  untrack(channel: string): void {
    this.heads.delete(channel);
  }

  /** The newest position seen, to snapshot when a command is sent; undefined when not tracked. */
  floor(channel: string): SeenPosition | undefined {
    const head = this.heads.get(channel);
    return head && { epoch: head.epoch, seq: head.seq };
  }

  /**
   * A history read answered (epoch, headSeq); `sent` is floor() when it was sent. 'rewound' when
   * the history is shorter than what was seen before the read.
   */
  sawHistory(channel: string, sent: SeenPosition | undefined, epoch: string, headSeq: number): Verdict {
    if (sent && sent.epoch !== '' && epoch === sent.epoch && headSeq < sent.seq) return 'rewound';
    this.advance(channel, sent, epoch, headSeq, false);
    return 'ok';
  }

  /** An append stored up to `headSeq` in `epoch` (nothing new when only duplicates). */
  sawAppend(channel: string, sent: SeenPosition | undefined, epoch: string, headSeq: number): void {
    this.advance(channel, sent, epoch, headSeq, false);
  }

  /** 'rewound' when an announcement repeats a seq already announced in the same epoch. */
  sawAnnouncement(channel: string, epoch: string, firstSeq: number, lastSeq: number): Verdict {
    const head = this.heads.get(channel);
    if (!head) return 'ok';
    if (epoch === head.epoch && head.announced > 0 && firstSeq <= head.announced) return 'rewound';
    this.advance(channel, head, epoch, lastSeq, true);
    return 'ok';
  }

  /** Seqs up to this one in `epoch` were handed to the listener already (0: none, or another epoch). */
  handedUpTo(channel: string, epoch: string): number {
    const head = this.heads.get(channel);
    return head && head.epoch === epoch ? head.handed : 0;
  }

  /** The newest seq handed to the listener in `epoch`; undefined when the head is in another epoch. */
  handedIn(channel: string, epoch: string): number | undefined {
    const head = this.heads.get(channel);
    return head && head.epoch === epoch ? head.handed : undefined;
  }

  /** `seq` of `epoch` was handed to the listener (ignored for an epoch that is not the head's). */
  handed(channel: string, epoch: string, seq: number): void {
    const head = this.heads.get(channel);
    if (head && head.epoch === epoch) head.handed = Math.max(head.handed, seq);
  }

  /**
   * Moves the head forward. Another epoch is adopted only if the head did not change since `sent`
   * (else a reply from before a newer epoch was seen would take the head back).
   */
  private advance(channel: string, sent: SeenPosition | undefined, epoch: string, seq: number, announced: boolean): void {
    const head = this.heads.get(channel);
    if (!head) return;
    if (epoch === head.epoch) {
      head.seq = Math.max(head.seq, seq);
      if (announced) head.announced = Math.max(head.announced, seq);
      return;
    }
    if (sent && (sent.epoch !== head.epoch || sent.seq !== head.seq)) return;
    head.epoch = epoch;
    head.seq = seq;
    head.announced = announced ? seq : 0;
    head.handed = 0;
  }
}
