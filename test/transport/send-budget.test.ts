import { describe, expect, it } from 'vitest';
import { BUDGET_LOW_WATER, overBudget } from '../../src/transport/send-budget.js';

const held = (sizes: number[]) => sizes.map((bytes, index) => ({ connection: `c${index}`, bytes }));

describe('overBudget', () => {
  it('closes nothing while the total is within the budget', () => {
    expect(overBudget(held([40, 30, 30]), 100, 100)).toEqual({ close: [], remaining: 100 });
  });

  it('past the budget, closes the largest holders first, down to the low-water mark', () => {
    const sizes = [10, 50, 20, 40, 30];
    const { close, remaining } = overBudget(held(sizes), 150, 100);
    // 150 -> 100 (c1) -> 60 (c3) <= 90
    expect(close).toEqual(['c1', 'c3']);
    expect(remaining).toBe(60);
    expect(remaining).toBeLessThanOrEqual(100 * BUDGET_LOW_WATER);
  });

  it('closes everyone if it must', () => {
    expect(overBudget(held([5, 5, 5]), 15, 1).close).toEqual(['c0', 'c1', 'c2']);
  });
});
