// SEND_BUDGET_BYTES: one memory budget for everything waiting to be sent, node-wide. Each socket
// is also capped on its own (SEND_BUFFER_BYTES); the budget bounds their sum, which the per-socket
// cap cannot (10,000 sockets at a 4 MiB cap are 40 GiB). Past it the consumers holding the most
// are closed first (4008: they resume from their last seq), down to a low-water mark so that the
// next burst does not close another one at once.

/** Past the budget, the largest are closed until the total is at most this share of it. */
export const BUDGET_LOW_WATER = 0.9;

export interface Held<C> {
  readonly connection: C;
  readonly bytes: number;
}

/**
 * Which connections to close so that `total` (the sum of `held`) falls to the low-water mark of
 * `budgetBytes`, and what the rest then hold: none while the total is within the budget, else the
 * largest holders first.
 */
export function overBudget<C>(held: ReadonlyArray<Held<C>>, total: number, budgetBytes: number): { close: C[]; remaining: number } {
  if (total <= budgetBytes) return { close: [], remaining: total };
  const target = Math.floor(budgetBytes * BUDGET_LOW_WATER);
  const largestFirst = [...held].sort((a, b) => b.bytes - a.bytes);
  const close: C[] = [];
  let remaining = total;
  for (const { connection, bytes } of largestFirst) {
    if (remaining <= target) break;
    close.push(connection);
    remaining -= bytes;
  }
  return { close, remaining };
}
