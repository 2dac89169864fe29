import type { BenchClient, BenchSignal } from '../clients/adapter.js';
import { encodeHistogram, newHistogram } from '../lib/hist.js';
import { nowMs, sleep } from '../lib/timing.js';
import type { PublisherReport, PublisherSpec } from './ipc.js';
import type { Expected } from './tracker.js';

/**
 * Publishers of one load worker. Each keeps `window` publishes in flight ("as fast as acknowledged"),
 * or paces to `rate`; all stop at the deadline (or after `countPerChannel`), whichever comes first.
 */
export class PublisherGroup {
  private allowedUpTo = Number.POSITIVE_INFINITY;
  private readonly ackLatency = newHistogram();
  private readonly lastSeq: Expected = {};
  private acked = 0;
  private lagWaits = 0;
  private stopped = false;
  private readonly errors: string[] = [];

  constructor(
    private readonly spec: PublisherSpec,
    private readonly clients: BenchClient[],
  ) {
    if (spec.maxLag !== undefined) this.allowedUpTo = spec.maxLag;
  }

  /** The slowest subscriber has seen `minLast`: publish at most `maxLag` beyond it. */
  allow(minLast: number): void {
    if (this.spec.maxLag !== undefined) this.allowedUpTo = minLast + this.spec.maxLag;
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<PublisherReport> {
    const startedAt = nowMs();
    const deadline = startedAt + this.spec.durationMs;
    await Promise.all(this.clients.map((client, index) => this.runOne(client, this.spec.publishers[index]?.channels ?? [], startedAt, deadline)));
    return {
      acked: this.acked,
      lastSeq: this.lastSeq,
      startedAt,
      endedAt: nowMs(),
      ackLatency: encodeHistogram(this.ackLatency),
      errors: this.errors,
      lagWaits: this.lagWaits,
    };
  }

  private async runOne(client: BenchClient, channels: string[], startedAt: number, deadline: number): Promise<void> {
    const { batch, window, rate, countPerChannel } = this.spec;
    const counters = new Map<string, number>(channels.map((channel) => [channel, 0]));
    const limit = countPerChannel === undefined ? Number.POSITIVE_INFINITY : countPerChannel * channels.length;
    let issued = 0;
    let turn = 0;
    let inFlight = 0;
    let failed = false;

    const nextBatch = (): BenchSignal[] => {
      const signals: BenchSignal[] = [];
      const sent = nowMs();
      for (let i = 0; i < batch && issued < limit; i++, issued++) {
        const channel = channels[turn++ % channels.length] ?? '';
        const n = (counters.get(channel) ?? 0) + 1;
        counters.set(channel, n);
        signals.push({ channel, n, sent });
      }
      return signals;
    };
    // Per-channel counters advance round robin, so the highest one bounds the lag of all channels.
    const highest = (): number => Math.ceil(issued / Math.max(1, channels.length));

    const sendOne = async (): Promise<void> => {
      const signals = nextBatch();
      if (signals.length === 0) return;
      inFlight++;
      const sentAt = nowMs();
      try {
        const acks = await client.publish(signals);
        this.ackLatency.recordValue(Math.max(1, Math.round((nowMs() - sentAt) * 1000)));
        this.acked += acks.length;
        for (const ack of acks) if ((this.lastSeq[ack.channel] ?? 0) < ack.seq) this.lastSeq[ack.channel] = ack.seq;
      } catch (error) {
        failed = this.errors.length > 20;
        if (this.errors.length < 5) this.errors.push(error instanceof Error ? error.message : String(error));
      } finally {
        inFlight--;
      }
    };

    const pending = new Set<Promise<void>>();
    const launch = (): void => {
      const promise: Promise<void> = sendOne().finally(() => pending.delete(promise));
      pending.add(promise);
    };
    while (!this.stopped && !failed && issued < limit && nowMs() < deadline) {
      if (rate !== undefined) {
        // Paced: send what is due by now, then yield to the event loop for about a millisecond.
        const due = Math.floor(((nowMs() - startedAt) / 1000) * rate);
        while (issued < due && issued < limit && pending.size < window * 64) launch();
        await sleep(1);
      } else if (highest() + batch > this.allowedUpTo) {
        this.lagWaits++;
        await sleep(2);
      } else if (pending.size >= window) {
        await Promise.race(pending);
      } else {
        launch();
      }
    }
    await Promise.allSettled([...pending]);
  }
}
