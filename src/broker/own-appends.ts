// One channel's appends made by this node, for RedisBroker's own-append fast path: what they
// stored is known from the append itself (redis-scripts.ts appendedEntries), so their
// announcement need not be parsed. Redis writes a script's PUBLISH to the subscriber connection
// before its reply to the caller, so the announcement usually arrives first: an announcement that
// arrives while appends of this node are in flight waits here, in order, until those appends
// settled (not later ones: an append sent after an announcement arrived cannot have caused it).
import type { Entry } from '../signal/schema.js';
import type { AnnouncementSpan } from './redis-scripts.js';

/** Announcements held at most per channel, in count and in text: past either, they are processed at once (and parsed). */
export const MAX_HELD_ANNOUNCEMENTS = 1024;
export const MAX_HELD_CHARS = 4 * 1024 * 1024;

export interface HeldAnnouncement {
  message: string;
  /** Its span when it could be read without parsing. */
  span: AnnouncementSpan | undefined;
}

interface Held extends HeldAnnouncement {
  /** The newest append in flight when it arrived: it waits for no later one. */
  after: number;
}

export class OwnAppends {
  private lastAppend = 0;
  /** Appends in flight, oldest first (a Set iterates in insertion order). */
  private readonly inFlight = new Set<number>();
  private readonly held: Held[] = [];
  private heldChars = 0;
  /** Entries this node stored, by seq, all of `epoch`, not yet handed to the listener. */
  private readonly stored = new Map<number, Entry>();
  private epoch = '';

  /**
   * @param maxKept stored entries kept at most until their announcement comes (one may be lost,
   * or wait behind another node's): the history size, as older ones could only be replaced by a reset.
   */
  constructor(private readonly maxKept: number) {}

  /** An append was sent; returns its number, for end(). */
  begin(): number {
    this.lastAppend += 1;
    this.inFlight.add(this.lastAppend);
    return this.lastAppend;
  }

  /** Append `append` settled; `entries`: what it stored (none when it failed or held only duplicates). */
  end(append: number, entries: readonly Entry[]): void {
    this.inFlight.delete(append);
    for (const entry of entries) {
      if (entry.epoch !== this.epoch) {
        this.stored.clear();
        this.epoch = entry.epoch;
      }
      this.stored.set(entry.seq, entry);
    }
    // Oldest first out (a Map iterates in insertion order): an announcement that never came.
    for (const seq of this.stored.keys()) {
      if (this.stored.size <= this.maxKept) break;
      this.stored.delete(seq);
    }
  }

  /** Holds an announcement while an own append is in flight; false: process it now. */
  hold(announcement: HeldAnnouncement): boolean {
    if (this.inFlight.size === 0 || this.held.length >= MAX_HELD_ANNOUNCEMENTS) return false;
    if (this.heldChars + announcement.message.length > MAX_HELD_CHARS) return false;
    this.held.push({ ...announcement, after: this.lastAppend });
    this.heldChars += announcement.message.length;
    return true;
  }

  /** Every held announcement, oldest first: the channel cannot hold more (see hold). */
  releaseAll(): HeldAnnouncement[] {
    this.heldChars = 0;
    return this.held.splice(0);
  }

  /**
   * The held announcements to process now, oldest first: up to the first one that is neither
   * covered by what was stored nor past every append it waits for (one still in flight may
   * carry it).
   */
  release(): HeldAnnouncement[] {
    const oldestInFlight = this.inFlight.values().next().value ?? Number.POSITIVE_INFINITY;
    let count = 0;
    while (count < this.held.length) {
      const next = this.held[count]!;
      if (next.after >= oldestInFlight && !(next.span && this.covers(next.span))) break;
      count += 1;
    }
    const released = this.held.splice(0, count);
    for (const { message } of released) this.heldChars -= message.length;
    return released;
  }

  /** The stored entries of the span, in seq order, when all of them are known (removed from here). */
  take(span: AnnouncementSpan): Entry[] | undefined {
    if (!this.covers(span)) return undefined;
    const entries: Entry[] = [];
    for (let seq = span.firstSeq; seq <= span.lastSeq; seq++) {
      entries.push(this.stored.get(seq)!);
      this.stored.delete(seq);
    }
    return entries;
  }

  /** Stored entries that continue `handedSeq` in `epoch`, in seq order (removed from here). */
  following(epoch: string, handedSeq: number): Entry[] {
    const entries: Entry[] = [];
    if (epoch !== this.epoch) return entries;
    for (let seq = handedSeq + 1; this.stored.has(seq); seq++) {
      entries.push(this.stored.get(seq)!);
      this.stored.delete(seq);
    }
    return entries;
  }

  /** Forgets stored entries the listener has (up to `handedSeq` of `epoch`), or of another epoch. */
  handed(epoch: string, handedSeq: number): void {
    if (epoch !== this.epoch) {
      this.stored.clear();
      this.epoch = epoch;
      return;
    }
    for (const seq of this.stored.keys()) if (seq <= handedSeq) this.stored.delete(seq);
  }

  private covers(span: AnnouncementSpan): boolean {
    if (span.epoch !== this.epoch || span.lastSeq - span.firstSeq >= this.stored.size) return false;
    for (let seq = span.firstSeq; seq <= span.lastSeq; seq++) if (!this.stored.has(seq)) return false;
    return true;
  }
}
