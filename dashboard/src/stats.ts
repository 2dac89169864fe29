// Per-channel rate and end-to-end latency for the stats table (pure: the caller passes the time).
// Latency is the page's clock minus the signal's `ts`, so it includes the publisher's own delay
// when the bot stamps `ts`; only live entries count (a replayed entry is old by design).

export interface ChannelSnapshot {
  channel: string;
  /** Entries per second over the last window. */
  rate: number;
  /** Median latency of the live entries of the last window that had any, in ms; undefined before the first. */
  latencyMs: number | undefined;
  /** Highest latency of that window, in ms. */
  maxLatencyMs: number | undefined;
  lastSeq: number;
  total: number;
  /** Entries a conflated feed replaced by newer ones, in total. */
  replaced: number;
}

interface Channel {
  total: number;
  lastSeq: number;
  replaced: number;
  windowCount: number;
  windowLatencies: number[];
  snapshot: ChannelSnapshot;
}

export const WINDOW_MS = 1_000;
/** Latency samples kept per window: enough for a median, bounded at any rate. */
const MAX_SAMPLES = 512;

export class ChannelStats {
  private readonly channels = new Map<string, Channel>();
  private windowStart: number;

  constructor(now: number) {
    this.windowStart = now;
  }

  record(channel: string, seq: number, ts: number, live: boolean, now: number, replaced = 0): void {
    const stats = this.channels.get(channel) ?? this.add(channel);
    stats.total += 1;
    stats.lastSeq = seq;
    stats.replaced += replaced;
    stats.windowCount += 1;
    if (live && stats.windowLatencies.length < MAX_SAMPLES) stats.windowLatencies.push(Math.max(0, now - ts));
  }

  forget(channel: string): void {
    this.channels.delete(channel);
  }

  /** Closes the window once it is WINDOW_MS old; returns true when the snapshots changed. */
  tick(now: number): boolean {
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return false;
    for (const [channel, stats] of this.channels) {
      const sorted = stats.windowLatencies.sort((a, b) => a - b);
      stats.snapshot = {
        channel,
        rate: (stats.windowCount * 1000) / elapsed,
        // A quiet window keeps the last latency seen: no news is not zero latency.
        latencyMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : stats.snapshot.latencyMs,
        maxLatencyMs: sorted.length ? sorted[sorted.length - 1] : stats.snapshot.maxLatencyMs,
        lastSeq: stats.lastSeq,
        total: stats.total,
        replaced: stats.replaced,
      };
      stats.windowCount = 0;
      stats.windowLatencies = [];
    }
    this.windowStart = now;
    return true;
  }

  snapshots(): ChannelSnapshot[] {
    return [...this.channels.values()].map((stats) => ({ ...stats.snapshot, lastSeq: stats.lastSeq, total: stats.total, replaced: stats.replaced }));
  }

  private add(channel: string): Channel {
    const stats: Channel = {
      total: 0,
      lastSeq: 0,
      replaced: 0,
      windowCount: 0,
      windowLatencies: [],
      snapshot: { channel, rate: 0, latencyMs: undefined, maxLatencyMs: undefined, lastSeq: 0, total: 0, replaced: 0 },
    };
    this.channels.set(channel, stats);
    return stats;
  }
}
