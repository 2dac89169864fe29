import { describe, expect, it } from 'vitest';
import { Backlog, FrameStats } from '../../dashboard/src/backlog.js';
import { ChannelStats, WINDOW_MS } from '../../dashboard/src/stats.js';

describe('dashboard channel stats', () => {
  it('reports the rate and median latency of live entries per window, and keeps the last latency through a quiet one', () => {
    const stats = new ChannelStats(0);
    for (let i = 1; i <= 50; i += 1) stats.record('BTCUSDT', i, 1_000 - 100, false, 500); // replayed: no latency sample
    for (let i = 51; i <= 100; i += 1) stats.record('BTCUSDT', i, 950 - i, true, 1_000);
    stats.record('ETHUSDT', 7, 0, true, 900, 41);
    expect(stats.tick(WINDOW_MS - 1)).toBe(false);
    expect(stats.tick(WINDOW_MS * 2)).toBe(true);
    const [btc, eth] = stats.snapshots();
    expect(btc).toMatchObject({ channel: 'BTCUSDT', rate: 50, lastSeq: 100, total: 100, replaced: 0 });
    expect(btc!.latencyMs).toBe(1_000 - 950 + 76); // the median of 101..150
    expect(btc!.maxLatencyMs).toBe(150);
    expect(eth).toMatchObject({ rate: 0.5, latencyMs: 900, replaced: 41 });

    expect(stats.tick(WINDOW_MS * 3)).toBe(true);
    expect(stats.snapshots()[0]).toMatchObject({ rate: 0, latencyMs: btc!.latencyMs, total: 100 });
    stats.forget('ETHUSDT');
    expect(stats.snapshots().map((snapshot) => snapshot.channel)).toEqual(['BTCUSDT']);
  });
});

describe('dashboard backlog', () => {
  it('hands a frame everything waiting, oldest first, up to the row limit, and counts the rest as dropped', () => {
    const backlog = new Backlog<number>(5);
    for (let i = 1; i <= 3; i += 1) backlog.push(i);
    expect(backlog.take()).toEqual([1, 2, 3]);
    expect(backlog.size).toBe(0);
    for (let i = 1; i <= 23; i += 1) backlog.push(i);
    expect(backlog.size).toBeLessThan(10); // bounded even when no frame runs
    expect(backlog.take()).toEqual([19, 20, 21, 22, 23]);
    expect(backlog.dropped).toBe(18);
  });

  it('summarizes frame work and gaps', () => {
    const frames = new FrameStats(4);
    [2, 4, 6, 100, 8].forEach((ms, i) => frames.record(ms, i === 0 ? 0 : 16));
    expect(frames.summary()).toEqual({ frames: 5, lastMs: 8, maxMs: 100, avgMs: 24, p95Ms: 100, p95GapMs: 16, maxGapMs: 16 });
  });
});
