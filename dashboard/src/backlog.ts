// What waits for the next animation frame, bounded (pure). The table shows at most `limit` rows,
// so of a burst larger than that only the newest `limit` can ever be seen: older ones are counted
// as dropped instead of being drawn and removed in the same frame. The bound also holds while the
// tab is hidden and the browser runs no frames at all.
export class Backlog<T> {
  private items: T[] = [];
  /** Entries that never became rows because newer ones pushed them out before a frame. */
  dropped = 0;

  constructor(private readonly limit: number) {}

  push(item: T): void {
    this.items.push(item);
    // Trimmed in steps (not on every push), so a burst costs one splice per `limit` entries.
    if (this.items.length >= this.limit * 2) this.trim();
  }

  get size(): number {
    return this.items.length;
  }

  /** Everything there is to draw now, oldest first: at most `limit` entries. */
  take(): T[] {
    this.trim();
    const taken = this.items;
    this.items = [];
    return taken;
  }

  private trim(): void {
    const excess = this.items.length - this.limit;
    if (excess <= 0) return;
    this.items.splice(0, excess);
    this.dropped += excess;
  }
}

/** Durations of the render work per frame and between frames, for window.__sigcast. */
export class FrameStats {
  private readonly recent: number[] = [];
  private readonly recentGaps: number[] = [];
  frames = 0;
  lastMs = 0;
  maxMs = 0;
  totalMs = 0;
  maxGapMs = 0;

  constructor(private readonly keep = 240) {}

  /** `workMs`: time spent drawing; `gapMs`: time since the previous frame that drew (0 for the first). */
  record(workMs: number, gapMs: number): void {
    this.frames += 1;
    this.lastMs = workMs;
    this.totalMs += workMs;
    this.maxMs = Math.max(this.maxMs, workMs);
    this.maxGapMs = Math.max(this.maxGapMs, gapMs);
    push(this.recent, workMs, this.keep);
    if (gapMs > 0) push(this.recentGaps, gapMs, this.keep);
  }

  summary(): { frames: number; lastMs: number; maxMs: number; avgMs: number; p95Ms: number; p95GapMs: number; maxGapMs: number } {
    return {
      frames: this.frames,
      lastMs: round(this.lastMs),
      maxMs: round(this.maxMs),
      avgMs: round(this.frames ? this.totalMs / this.frames : 0),
      p95Ms: round(percentile(this.recent, 0.95)),
      p95GapMs: round(percentile(this.recentGaps, 0.95)),
      maxGapMs: round(this.maxGapMs),
    };
  }
}

function push(values: number[], value: number, keep: number): void {
  values.push(value);
  if (values.length > keep) values.shift();
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
