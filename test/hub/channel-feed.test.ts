import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppendResult, Broker, HistoryPage, HistoryQuery, LiveListener } from '../../src/broker/broker.js';
import { MemoryBroker } from '../../src/broker/memory-broker.js';
import type { CachedEntry } from '../../src/hub/cached-entry.js';
import { ChannelFeed, type FeedReset, type FeedSink } from '../../src/hub/channel-feed.js';
import type { Signal } from '../../src/signal/schema.js';
import { waitFor } from '../support/wait.js';

/**
 * The feed's merge logic on an in-process broker whose pub/sub can be made to lose messages,
 * the way Redis pub/sub does on reconnects. (Real Redis loss is covered in test/e2e.)
 */
class LossyBroker extends MemoryBroker {
  dropAnnouncements = false;
  historyReads = 0;
  failHistory = false;
  /** While set, history replies wait for it (to hold a read in flight). */
  historyGate: Promise<void> | undefined;

  /** Entries appended while dropAnnouncements was set: their announcement is lost. */
  private readonly lost = new Set<string>();

  override async append(channel: string, batch: readonly Signal[]): Promise<AppendResult> {
    const drop = this.dropAnnouncements;
    const result = await super.append(channel, batch);
    if (drop) for (const { seq } of result.results) this.lost.add(`${result.epoch}:${seq}`);
    return result;
  }

  override subscribe(channel: string, listener: LiveListener): Promise<void> {
    return super.subscribe(channel, (entries) => {
      const first = entries[0];
      if (first && !this.lost.has(`${first.epoch}:${first.seq}`)) listener(entries);
    });
  }

  override history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.historyReads += 1;
    if (this.failHistory) return Promise.reject(new Error('history unavailable'));
    const gate = this.historyGate;
    // The page is read now and answered when the gate opens, as a slow reply would be.
    const page = super.history(channel, query);
    return gate ? page.then((read) => gate.then(() => read)) : page;
  }
}

class RecordingSink implements FeedSink {
  readonly seqs: number[] = [];
  readonly epochs: string[] = [];
  readonly resets: FeedReset[] = [];
  catchUps = 0;
  deliver(_channel: string, entries: CachedEntry[]): void {
    for (const entry of entries) {
      this.seqs.push(entry.seq);
      this.epochs.push(entry.entry.epoch);
    }
  }
  reset(_channel: string, reset: FeedReset): void {
    this.resets.push(reset);
  }
  catchingUp(): void {
    this.catchUps += 1;
  }
  /** For each eviction notice: the oldest seq the ring held then (it must still hold it). */
  readonly evictedFrom: Array<number | undefined> = [];
  feed: ChannelFeed | undefined;
  evicting(): void {
    this.evictedFrom.push(this.feed?.ring.first()?.seq);
  }
}

const log = pino({ level: 'silent' });
const signals = (n: number, prefix = 's'): Signal[] =>
  Array.from({ length: n }, (_, i) => ({ symbol: 'C', side: 'BUY', strength: 1, ts: 1, id: `${prefix}${Math.random().toString(36).slice(2)}${i}` }));

async function startFeed(broker: Broker, capacity = 100) {
  const sink = new RecordingSink();
  const feed = new ChannelFeed('C', broker, capacity, sink, log);
  sink.feed = feed;
  await feed.start();
  await feed.ready;
  return { feed, sink };
}

describe('ChannelFeed', () => {
  it('starts from history, then follows live appends', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    await broker.append('C', signals(5));
    const { feed, sink } = await startFeed(broker);
    expect(sink.seqs).toEqual([1, 2, 3, 4, 5]);
    await broker.append('C', signals(3));
    await waitFor(() => sink.seqs.length === 8);
    expect(sink.seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(feed.headSeq).toBe(8);
    expect(feed.ring.size).toBe(8);
  });

  it('fills a hole in the live stream from history before delivering past it', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    const { sink } = await startFeed(broker);
    await broker.append('C', signals(2));
    await waitFor(() => sink.seqs.length === 2);
    broker.dropAnnouncements = true;
    await broker.append('C', signals(3)); // lost: seqs 3..5
    broker.dropAnnouncements = false;
    await broker.append('C', signals(2)); // 6..7 reveal the hole
    await waitFor(() => sink.seqs.length === 7);
    expect(sink.seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sink.catchUps).toBe(1);
    expect(sink.resets).toEqual([]);
  });

  it('re-syncs on demand (broker reconnect) without duplicates', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    const { feed, sink } = await startFeed(broker);
    broker.dropAnnouncements = true;
    await broker.append('C', signals(4));
    broker.dropAnnouncements = false;
    feed.resync();
    await waitFor(() => sink.seqs.length === 4);
    await broker.append('C', signals(1));
    await waitFor(() => sink.seqs.length === 5);
    expect(sink.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('says it is about to drop entries before its ring drops them (readers by seq keep what they need)', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    const { sink } = await startFeed(broker, 10);
    await broker.append('C', signals(8));
    await waitFor(() => sink.seqs.length === 8);
    expect(sink.evictedFrom).toEqual([]);
    await broker.append('C', signals(4));
    await waitFor(() => sink.seqs.length === 12);
    expect(sink.evictedFrom).toEqual([1]);
  });

  it('says "truncated" when more was missed than history still holds', async () => {
    const broker = new LossyBroker({ historySize: 10, historyTtlMs: 60_000 });
    const { sink } = await startFeed(broker, 10);
    await broker.append('C', signals(1));
    await waitFor(() => sink.seqs.length === 1);
    broker.dropAnnouncements = true;
    await broker.append('C', signals(30)); // 2..31, history keeps 22..31
    broker.dropAnnouncements = false;
    await broker.append('C', signals(1)); // 32
    await waitFor(() => sink.seqs.at(-1) === 32);
    expect(sink.resets).toEqual([{ reason: 'truncated', epoch: expect.any(String), fromSeq: 23, requested: { since: 1, epoch: expect.any(String) } }]);
    // Told before the ring was cleared for the jump.
    expect(sink.evictedFrom).toContain(1);
    expect(sink.seqs).toEqual([1, ...Array.from({ length: 10 }, (_, i) => 23 + i)]);
  });

  it('says "epoch_changed" when the history was lost and restarts at seq 1', async () => {
    let now = 1000;
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 50, now: () => now });
    const { sink } = await startFeed(broker);
    await broker.append('C', signals(3));
    await waitFor(() => sink.seqs.length === 3);
    const firstEpoch = sink.epochs[0]!;
    now += 1000; // the history expires
    broker.dropAnnouncements = true;
    await broker.append('C', signals(2)); // new epoch, seqs 1..2, announcement lost
    broker.dropAnnouncements = false;
    await broker.append('C', signals(1)); // seq 3 of the new epoch
    await waitFor(() => sink.seqs.length === 6);
    expect(sink.seqs).toEqual([1, 2, 3, 1, 2, 3]);
    expect(sink.resets).toHaveLength(1);
    expect(sink.resets[0]).toMatchObject({ reason: 'epoch_changed', fromSeq: 1, requested: { since: 3, epoch: firstEpoch } });
    expect(sink.epochs.at(-1)).not.toBe(firstEpoch);
  });

  it('keeps retrying a failed catch-up and loses nothing meanwhile', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    const { sink } = await startFeed(broker);
    broker.dropAnnouncements = true;
    await broker.append('C', signals(2));
    broker.dropAnnouncements = false;
    broker.failHistory = true;
    await broker.append('C', signals(2)); // reveals the hole; reads fail
    await waitFor(() => broker.historyReads >= 3, 5000, 'retries');
    await broker.append('C', signals(1)); // arrives while catching up
    broker.failHistory = false;
    await waitFor(() => sink.seqs.length === 5, 5000, 'recovery');
    expect(sink.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('re-reads history when more arrives during its first read than it buffers', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    await broker.append('C', signals(3));
    let open!: () => void;
    broker.historyGate = new Promise((resolve) => (open = resolve));
    const sink = new RecordingSink();
    const feed = new ChannelFeed('C', broker, 10, sink, log);
    const started = feed.start();
    await waitFor(() => broker.historyReads === 1, 1000, 'first read in flight');
    for (let i = 0; i < 3; i += 1) await broker.append('C', signals(4)); // 12 > capacity 10: the buffer is dropped
    broker.historyGate = undefined;
    open();
    await started;
    await waitFor(() => sink.seqs.at(-1) === 15, 2000, 'caught up without further appends');
    const delivered = sink.seqs;
    expect(delivered).toEqual([...new Set(delivered)].sort((a, b) => a - b));
    expect(feed.headSeq).toBe(15);
  });

  it('fails its first sync when history cannot be read (subscribers get an error, not a hang)', async () => {
    const broker = new LossyBroker({ historySize: 100, historyTtlMs: 60_000 });
    broker.failHistory = true;
    const feed = new ChannelFeed('C', broker, 10, new RecordingSink(), log);
    await feed.start();
    await expect(feed.ready).rejects.toThrow('history unavailable');
    expect(feed.closed).toBe(true);
  });
});
