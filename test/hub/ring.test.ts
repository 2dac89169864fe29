import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/hub/ring.js';

describe('Ring', () => {
  it('keeps the newest items, oldest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i += 1) ring.push(i);
    expect(ring.size).toBe(3);
    expect(ring.newest(10)).toEqual([3, 4, 5]);
    expect(ring.newest(2)).toEqual([4, 5]);
    expect(ring.newest(0)).toEqual([]);
    expect(ring.first()).toBe(3);
    expect(ring.newest(1)).toEqual([5]);
    expect(ring.at(3)).toBeUndefined();
  });

  it('clears', () => {
    const ring = new Ring<number>(2);
    ring.push(1);
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.first()).toBeUndefined();
    ring.push(7);
    expect(ring.newest(5)).toEqual([7]);
  });

  it('grows its storage with what it holds, and keeps order across every growth and wrap', () => {
    const ring = new Ring<number>(100);
    const held: number[] = [];
    for (let i = 1; i <= 350; i += 1) {
      ring.push(i);
      held.push(i);
      if (held.length > 100) held.shift();
      expect(ring.size).toBe(held.length);
      expect(ring.first()).toBe(held[0]);
      expect(ring.at(ring.size - 1)).toBe(i);
    }
    expect(ring.newest(100)).toEqual(held);
    expect(ring.at(99)).toBe(350);
  });

  it('rejects a useless capacity', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
