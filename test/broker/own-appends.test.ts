// OwnAppends decides which announcements wait for this node's appends and which are covered by
// what those appends stored: order is never changed, and nothing waits for a later append.
import { describe, expect, it } from 'vitest';
import { MAX_HELD_ANNOUNCEMENTS, MAX_HELD_CHARS, OwnAppends } from '../../src/broker/own-appends.js';
import type { Entry } from '../../src/signal/schema.js';

function entry(seq: number, epoch = 'e1'): Entry {
  return { channel: 'C', seq, epoch, ts: 1, signal: { symbol: 'C', side: 'BUY', strength: 1, ts: 1, id: `id${seq}` } };
}
const span = (firstSeq: number, lastSeq: number, epoch = 'e1') => ({ epoch, firstSeq, lastSeq });
const held = (name: string, first?: number, last?: number) => ({ message: name, span: first === undefined ? undefined : span(first, last ?? first) });

describe('OwnAppends', () => {
  it('holds nothing while no append is in flight', () => {
    const own = new OwnAppends(1000);
    expect(own.hold(held('a', 1))).toBe(false);
  });

  it('releases what an append covered once it settles, and keeps waiting for one it does not cover', () => {
    const own = new OwnAppends(1000);
    const first = own.begin();
    const second = own.begin();
    expect(own.hold(held('own-1', 1, 2))).toBe(true);
    expect(own.hold(held('other', 3))).toBe(true);
    expect(own.release()).toEqual([]);
    own.end(first, [entry(1), entry(2)]);
    // 'other' arrived while `second` was in flight: it may be that append's.
    expect(own.release().map((h) => h.message)).toEqual(['own-1']);
    expect(own.take(span(1, 2))).toEqual([entry(1), entry(2)]);
    own.end(second, []);
    expect(own.release().map((h) => h.message)).toEqual(['other']);
    expect(own.take(span(3, 3))).toBeUndefined();
  });

  it('never waits for an append sent after the announcement arrived', () => {
    const own = new OwnAppends(1000);
    const before = own.begin();
    expect(own.hold(held('x', 5))).toBe(true);
    const after = own.begin();
    own.end(before, []);
    expect(own.release().map((h) => h.message)).toEqual(['x']);
    own.end(after, [entry(6)]);
    expect(own.following('e1', 5)).toEqual([entry(6)]);
  });

  it('keeps the order: an announcement behind one still waiting waits too, even when covered', () => {
    const own = new OwnAppends(1000);
    const a = own.begin();
    const b = own.begin();
    own.hold(held('unknown', 1));
    own.end(b, [entry(2)]);
    own.hold(held('covered', 2));
    expect(own.release()).toEqual([]);
    own.end(a, []);
    expect(own.release().map((h) => h.message)).toEqual(['unknown', 'covered']);
  });

  it('an unreadable announcement waits for every append in flight when it arrived', () => {
    const own = new OwnAppends(1000);
    const a = own.begin();
    own.hold(held('unreadable'));
    own.end(a, [entry(1)]);
    expect(own.release().map((h) => h.message)).toEqual(['unreadable']);
  });

  it('holds a bounded number, then hands all of them back in order', () => {
    const own = new OwnAppends(1000);
    own.begin();
    for (let i = 0; i < MAX_HELD_ANNOUNCEMENTS; i++) expect(own.hold(held(`m${i}`, i + 1))).toBe(true);
    expect(own.hold(held('over', 0))).toBe(false);
    const all = own.releaseAll();
    expect(all).toHaveLength(MAX_HELD_ANNOUNCEMENTS);
    expect(all[0]!.message).toBe('m0');
    expect(own.releaseAll()).toEqual([]);
  });

  it('holds a bounded amount of text, then hands everything back in order', () => {
    const own = new OwnAppends(1000);
    own.begin();
    const big = 'x'.repeat(MAX_HELD_CHARS / 4);
    for (let i = 0; i < 4; i++) expect(own.hold({ message: big, span: undefined })).toBe(true);
    expect(own.hold({ message: 'one more', span: undefined })).toBe(false);
    expect(own.releaseAll()).toHaveLength(4);
    expect(own.hold({ message: big, span: undefined })).toBe(true);
  });

  it('keeps at most the history size of stored entries, dropping the oldest', () => {
    const own = new OwnAppends(3);
    own.end(own.begin(), [entry(1), entry(2), entry(3), entry(4), entry(5)]);
    expect(own.following('e1', 0)).toEqual([]);
    expect(own.following('e1', 2)).toEqual([entry(3), entry(4), entry(5)]);
  });

  it('covers a span only when every seq of it is stored, in the same epoch', () => {
    const own = new OwnAppends(1000);
    own.end(own.begin(), [entry(1), entry(2), entry(4)]);
    expect(own.take(span(1, 3))).toBeUndefined();
    expect(own.take(span(1, 2, 'e2'))).toBeUndefined();
    expect(own.take(span(4, 4))).toEqual([entry(4)]);
    expect(own.take(span(4, 4))).toBeUndefined();
    expect(own.following('e1', 0)).toEqual([entry(1), entry(2)]);
  });

  it('forgets what the listener was handed, and everything of another epoch', () => {
    const own = new OwnAppends(1000);
    own.end(own.begin(), [entry(1), entry(2), entry(3)]);
    own.handed('e1', 2);
    expect(own.following('e1', 2)).toEqual([entry(3)]);
    own.end(own.begin(), [entry(4), entry(5)]);
    own.handed('e2', 1);
    expect(own.following('e1', 3)).toEqual([]);
    own.end(own.begin(), [entry(1, 'e3')]);
    expect(own.following('e3', 0)).toEqual([entry(1, 'e3')]);
  });
});
