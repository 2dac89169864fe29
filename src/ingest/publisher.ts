import type { Broker } from '../broker/broker.js';
import type { Metrics } from '../metrics.js';
import type { AckedEntry } from '../protocol/frames.js';
import { planPublish } from '../signal/publish-request.js';


/**
 * Publishing, shared by HTTP and WebSocket: validate the whole request, then one broker append
 * per channel. It answers only after the broker stored everything; any storage failure becomes
 * `unavailable` (the publisher retries; ids make the retry idempotent).
 */
export class Publisher {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private turnEnd: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly metrics: Metrics,
    private readonly maxBatch: number,
  ) {}

  async publish(body: unknown): Promise<AckedEntry[]> {
    const plan = planPublish(body, this.maxBatch);
    this.inFlight += 1;
    this.metrics.ingestInFlight.inc();
    try {
      await this.endOfTurn();
      const appended = await Promise.all(
        plan.batches.map(async (batch) => {
          const stop = this.metrics.brokerLatency.startTimer();
          const result = await this.broker.append(batch.channel, batch.signals);
          stop();
          return result;
        }),
      );
      const acked = plan.placements.flatMap((placements) =>
        placements.map(({ batch, position }) => {
          const result = appended[batch]!;
          const item = result.results[position]!;
          return { channel: plan.batches[batch]!.channel, seq: item.seq, epoch: result.epoch, id: item.id, duplicate: item.duplicate };
        }),
      );
      const duplicates = acked.filter((entry) => entry.duplicate).length;
      this.metrics.entriesIn.inc(acked.length - duplicates);
      if (duplicates > 0) this.metrics.duplicatesIn.inc(duplicates);
      return acked;
    } finally {
      this.inFlight -= 1;
      this.metrics.ingestInFlight.dec();
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Publishes arrive one transport callback at a time, and ioredis pipelines only the commands of
   * one tick: waiting for the end of the event-loop turn lets all appends of the turn leave in one
   * write (one syscall instead of one per publish).
   */
  private endOfTurn(): Promise<void> {
    return (this.turnEnd ??= new Promise((resolve) =>
      setImmediate(() => {
        this.turnEnd = undefined;
        resolve();
      }),
    ));
  }

  /** Resolves when no publish is in flight (used by graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
