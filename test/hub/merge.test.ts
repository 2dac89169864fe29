import { describe, expect, it } from 'vitest';
import { contiguousRun, mergeLive, planReplay } from '../../src/hub/merge.js';
import type { Entry } from '../../src/signal/schema.js';

const entry = (seq: number, epoch = 'e1'): Entry => ({
  channel: 'C',
  seq,
  epoch,
  ts: 0,
  signal: { symbol: 'C', side: 'BUY', strength: 1, ts: 0, id: `id${seq}` },
});
const seqs = (entries: Entry[]) => entries.map((e) => e.seq);

describe('mergeLive', () => {
  it('delivers the next contiguous entries', () => {
    const merge = mergeLive('e1', 4, [entry(5), entry(6)]);
    expect(merge.kind).toBe('deliver');
    expect(merge.kind === 'deliver' && seqs(merge.entries)).toEqual([5, 6]);
  });

  it('drops what was already delivered (duplicates at the seam)', () => {
    const merge = mergeLive('e1', 6, [entry(5), entry(6), entry(7)]);
    expect(merge.kind === 'deliver' && seqs(merge.entries)).toEqual([7]);
    const none = mergeLive('e1', 9, [entry(5), entry(6)]);
    expect(none).toEqual({ kind: 'deliver', entries: [] });
  });

  it('reports a hole instead of delivering past it', () => {
    expect(mergeLive('e1', 4, [entry(7), entry(8)])).toEqual({ kind: 'gap', missingFrom: 5, missingTo: 6 });
  });

  it('reports another epoch', () => {
    expect(mergeLive('e1', 4, [entry(1, 'e2')])).toEqual({ kind: 'epoch_changed', epoch: 'e2' });
  });

  it('lets an empty feed adopt a new history that starts at 1, but not one it joined midway', () => {
    expect(mergeLive('', 0, [entry(1, 'e2')]).kind).toBe('deliver');
    expect(mergeLive('', 0, [entry(3, 'e2')]).kind).toBe('epoch_changed');
  });

  it('treats an empty batch as nothing to do', () => {
    expect(mergeLive('e1', 3, [])).toEqual({ kind: 'deliver', entries: [] });
  });
});

describe('contiguousRun', () => {
  it('stops at the first hole and skips old entries', () => {
    expect(seqs(contiguousRun(2, [entry(1), entry(3), entry(4), entry(6)]))).toEqual([3, 4]);
  });
});

describe('planReplay', () => {
  // The feed holds seqs 101..1100 of epoch e1; the replay limit is 1000.
  const plan = (request: Parameters<typeof planReplay>[0]) => planReplay(request, 'e1', 101, 1100, 1000);

  it('live only: nothing to replay', () => {
    expect(plan({})).toEqual({ count: 0 });
  });

  it('last N, bounded by what is held and by the limit', () => {
    expect(plan({ last: 10 })).toEqual({ count: 10 });
    expect(planReplay({ last: 50 }, 'e1', 1, 20, 1000)).toEqual({ count: 20 });
    expect(planReplay({ last: 1000 }, 'e1', 1, 5000, 100)).toEqual({ count: 100 });
  });

  it('since a held seq: exactly the entries after it', () => {
    expect(plan({ since: 1090, epoch: 'e1' })).toEqual({ count: 10 });
    expect(plan({ since: 100, epoch: 'e1' })).toEqual({ count: 1000 });
    expect(plan({ since: 1100, epoch: 'e1' })).toEqual({ count: 0 });
  });

  it('since without an epoch means the current epoch', () => {
    expect(plan({ since: 1095 })).toEqual({ count: 5 });
  });

  it('a position older than what is held: truncated, then all there is', () => {
    expect(plan({ since: 50, epoch: 'e1' })).toEqual({ reset: { reason: 'truncated', fromSeq: 101 }, count: 1000 });
  });

  it('another epoch: epoch_changed, then all there is', () => {
    expect(plan({ since: 1095, epoch: 'old' })).toEqual({ reset: { reason: 'epoch_changed', fromSeq: 101 }, count: 1000 });
  });

  it('a position in an epoch when the channel has no history any more', () => {
    expect(planReplay({ since: 7, epoch: 'old' }, '', 1, 0, 1000)).toEqual({ reset: { reason: 'epoch_changed', fromSeq: 1 }, count: 0 });
  });

  it('since beyond the head (a confused client) replays nothing', () => {
    expect(plan({ since: 5000, epoch: 'e1' })).toEqual({ count: 0 });
  });
});
