import type { Entry } from '../signal/schema.js';

/**
 * Pure decisions at the seams between history reads and live pub/sub messages.
 * Pub/sub is only a hint; seq is the truth: an entry is delivered once, in order, never past a hole.
 */

export type LiveMerge =
  /** Deliver these (possibly none: everything was already seen). */
  | { kind: 'deliver'; entries: Entry[] }
  /** A hole between `headSeq` and the first new entry: read history after headSeq first. */
  | { kind: 'gap'; missingFrom: number; missingTo: number }
  /** The entries belong to another history of the channel: re-sync from scratch. */
  | { kind: 'epoch_changed'; epoch: string };

/** Merges one live batch (in seq order) onto a feed at (epoch, headSeq). */
export function mergeLive(epoch: string, headSeq: number, batch: readonly Entry[]): LiveMerge {
  const first = batch[0];
  if (!first) return { kind: 'deliver', entries: [] };
  if (first.epoch !== epoch) {
    // A feed with no history yet adopts the first epoch it sees, as long as nothing is missing.
    if (epoch === '' && headSeq === 0 && first.seq === 1) return { kind: 'deliver', entries: [...batch] };
    return { kind: 'epoch_changed', epoch: first.epoch };
  }
  const fresh = batch.filter((entry) => entry.seq > headSeq);
  const next = fresh[0];
  if (!next) return { kind: 'deliver', entries: [] };
  if (next.seq !== headSeq + 1) return { kind: 'gap', missingFrom: headSeq + 1, missingTo: next.seq - 1 };
  return { kind: 'deliver', entries: contiguousRun(headSeq, fresh) };
}

/** The longest run of entries continuing headSeq without a hole (a batch is contiguous by construction). */
export function contiguousRun(headSeq: number, entries: readonly Entry[]): Entry[] {
  const run: Entry[] = [];
  let expected = headSeq + 1;
  for (const entry of entries) {
    if (entry.seq < expected) continue;
    if (entry.seq !== expected) break;
    run.push(entry);
    expected += 1;
  }
  return run;
}

export interface ReplayRequest {
  since?: number | undefined;
  epoch?: string | undefined;
  last?: number | undefined;
}

export type ReplayPlan = {
  /** Set when the requested position could not be honoured. */
  reset?: { reason: 'truncated' | 'epoch_changed'; fromSeq: number };
  /** How many of the newest retained entries to replay. */
  count: number;
};

/**
 * What a subscriber at a given position gets from a feed holding entries firstSeq..headSeq
 * (firstSeq = headSeq + 1 when it holds none) in `epoch`.
 */
export function planReplay(request: ReplayRequest, epoch: string, firstSeq: number, headSeq: number, maxReplay: number): ReplayPlan {
  const held = Math.max(0, headSeq - firstSeq + 1);
  if (request.since === undefined) {
    return { count: Math.min(request.last ?? 0, held, maxReplay) };
  }
  const all = Math.min(held, maxReplay);
  if (request.epoch !== undefined && request.epoch !== epoch) {
    return { reset: { reason: 'epoch_changed', fromSeq: headSeq - all + 1 }, count: all };
  }
  if (request.since >= headSeq) return { count: 0 };
  const missed = headSeq - request.since;
  if (missed > all) return { reset: { reason: 'truncated', fromSeq: headSeq - all + 1 }, count: all };
  return { count: missed };
}
