import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../clients/backoff.js';
import { PositionTracker } from '../../clients/position-tracker.js';

/** The pure resume logic of the client: what it asks for, and which entries reach the app. */
describe('PositionTracker', () => {
  it('live only: starts at the head the server reports and asks for since/epoch after that', () => {
    const tracker = new PositionTracker({});
    expect(tracker.request()).toEqual({});
    tracker.onSubscribed({ epoch: 'e1', headSeq: 7, replay: 0 });
    expect(tracker.position).toEqual({ epoch: 'e1', seq: 7 });
    expect(tracker.accept({ epoch: 'e1', seq: 8 })).toBe(true);
    expect(tracker.request()).toEqual({ since: 8, epoch: 'e1' });
  });

  it('last N: the position is just before the replayed entries', () => {
    const tracker = new PositionTracker({ last: 3 });
    expect(tracker.request()).toEqual({ last: 3 });
    tracker.onSubscribed({ epoch: 'e1', headSeq: 10, replay: 3 });
    expect([8, 9, 10].map((seq) => tracker.accept({ epoch: 'e1', seq }))).toEqual([true, true, true]);
    expect(tracker.position).toEqual({ epoch: 'e1', seq: 10 });
  });

  it('drops duplicates, and keeps its own position when a lagging node answers in the same epoch', () => {
    const tracker = new PositionTracker({ since: 12, epoch: 'e1' });
    expect(tracker.request()).toEqual({ since: 12, epoch: 'e1' });
    tracker.onSubscribed({ epoch: 'e1', headSeq: 11, replay: 0 });
    expect(tracker.accept({ epoch: 'e1', seq: 12 })).toBe(false);
    expect(tracker.accept({ epoch: 'e1', seq: 13 })).toBe(true);
    expect(tracker.accept({ epoch: 'e1', seq: 13 })).toBe(false);
  });

  it('an epoch change (answer and reset) restarts the position at the reset fromSeq', () => {
    const tracker = new PositionTracker({ since: 40, epoch: 'old' });
    tracker.onSubscribed({ epoch: 'new', headSeq: 5, replay: 5 });
    tracker.onReset({ epoch: 'new', fromSeq: 1 });
    expect(tracker.accept({ epoch: 'new', seq: 1 })).toBe(true);
    expect(tracker.position).toEqual({ epoch: 'new', seq: 1 });
  });

  it('a truncated position jumps to the oldest retained entry', () => {
    const tracker = new PositionTracker({ since: 2, epoch: 'e1' });
    tracker.onSubscribed({ epoch: 'e1', headSeq: 20, replay: 5 });
    tracker.onReset({ epoch: 'e1', fromSeq: 16 });
    expect(tracker.accept({ epoch: 'e1', seq: 16 })).toBe(true);
  });

  it('a channel without history has the empty epoch: it resumes with since alone and adopts the first epoch', () => {
    const tracker = new PositionTracker({});
    tracker.onSubscribed({ epoch: '', headSeq: 0, replay: 0 });
    expect(tracker.request()).toEqual({ since: 0 });
    expect(tracker.accept({ epoch: 'e9', seq: 1 })).toBe(true);
    expect(tracker.request()).toEqual({ since: 1, epoch: 'e9' });
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with half of it random', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 100, 500, () => 0))).toEqual([50, 100, 200, 250]);
    expect(backoffDelay(10, 100, 500, () => 1)).toBe(500);
    expect(backoffDelay(1000, 100, 500, () => 0.5)).toBe(375);
  });
});
