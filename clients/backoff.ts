/** Reconnect delay: exponential from `initialMs` up to `maxMs`, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  // Jitter spreads the reconnects of many clients dropped at once (a node restart) over time.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
