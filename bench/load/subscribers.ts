import type { BenchClient, ClientOptions, EntryEvent } from '../clients/adapter.js';
import { createClient } from '../clients/index.js';
import { encodeHistogram, LatencyRecorder, newHistogram } from '../lib/hist.js';
import { nowMs, sleep } from '../lib/timing.js';
import type { SystemName } from '../lib/variants.js';
import type { SubscriberReport, SubscriberSpec } from './ipc.js';
import { addCompleteness, emptyCompleteness, type Expected, SeqTracker } from './tracker.js';

/** One connection: its client, its completeness tracker, its replay progress. */
interface Sub {
  client: BenchClient;
  tracker: SeqTracker;
  channels: string[];
}

/** The subscribers one load worker hosts. */
export class SubscriberGroup {
  private readonly subs: Sub[] = [];
  private readonly latency = new LatencyRecorder();
  private readonly replayDone = newHistogram();
  private deliveries = 0;
  private firstAt = 0;
  private lastAt = 0;
  private goAt = 0;
  private connectFailures = 0;
  private resumes = 0;
  private readonly closes: Record<string, number> = {};
  private readonly errors: string[] = [];
  /** Set once we close connections ourselves: those closes are not the server's doing. */
  private closing = false;

  constructor(
    private readonly system: SystemName,
    private readonly options: ClientOptions,
    private readonly spec: SubscriberSpec,
  ) {}

  channelsOf(index: number): string[] {
    const { channels, perConnection, offset } = this.spec;
    const list: string[] = [];
    for (let j = 0; j < perConnection; j++) list.push(channels[((offset + index) * perConnection + j) % channels.length] ?? '');
    return list;
  }

  /** Opens every connection, `connectConcurrency` at a time; failures are counted, not fatal. */
  async connectAll(): Promise<void> {
    const { connections, connectConcurrency } = this.spec;
    let nextIndex = 0;
    const lane = async (): Promise<void> => {
      while (nextIndex < connections) {
        const index = nextIndex++;
        try {
          await this.connectOne(index);
        } catch (error) {
          this.connectFailures++;
          if (this.errors.length < 5) this.errors.push(`connect #${index}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(connectConcurrency, connections) }, lane));
  }

  private async connectOne(index: number): Promise<void> {
    const tracker = new SeqTracker();
    const channels = this.channelsOf(index);
    const target = this.spec.last ?? 0;
    let replayed = false;
    const client = createClient(this.system, this.options, {
      onEntry: (entry: EntryEvent) => {
        const now = nowMs();
        this.deliveries++;
        if (this.firstAt === 0) this.firstAt = now;
        this.lastAt = now;
        tracker.record(entry.channel, entry.seq);
        if (!entry.replay && this.spec.recordLatency) this.latency.record((now - entry.sent) * 1000);
        if (target > 0 && !replayed && tracker.last(entry.channel) >= target) {
          replayed = true;
          this.replayDone.recordValue(Math.max(1, Math.round((now - this.goAt) * 1000)));
        }
      },
      onClose: (code, reason) => {
        if (this.closing) return;
        // Application codes with their reason: sigcast's 4008 is `slow consumer` or `lagging`.
        const key = code >= 4000 && reason ? `${code} ${reason}` : String(code);
        this.closes[key] = (this.closes[key] ?? 0) + 1;
      },
      onReset: (channel, fromSeq) => tracker.announce(channel, fromSeq),
      onResume: () => {
        this.resumes++;
      },
      onError: (message) => {
        if (this.errors.length < 5) this.errors.push(message);
      },
    });
    this.subs.push({ client, tracker, channels });
    await client.connect();
    for (const channel of channels) {
      tracker.expect(channel, 1);
      await client.subscribe(channel, target > 0 ? { last: target } : {});
    }
  }

  /** What setup achieved (connections and their failures). */
  async finishSetup(): Promise<{ connected: number; failed: number; errors: string[] }> {
    return { connected: this.subs.length - this.connectFailures, failed: this.connectFailures, errors: [...this.errors] };
  }

  /** `go`: replay-storm connects now; stallers stop reading for a while. */
  async go(): Promise<void> {
    this.goAt = nowMs();
    if (this.spec.connectOnGo) await this.connectAll();
    const { stallers, stallMs } = this.spec;
    for (let i = 0; i < Math.min(stallers, this.subs.length); i++) {
      const client = this.subs[i]?.client;
      client?.pause?.();
      setTimeout(() => client?.resume?.(), stallMs).unref();
    }
  }

  /** Smallest last seq over every subscription (drives the publishers' lag bound). */
  minLast(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const sub of this.subs) for (const channel of sub.channels) min = Math.min(min, sub.tracker.last(channel));
    return Number.isFinite(min) ? min : 0;
  }

  get delivered(): number {
    return this.deliveries;
  }

  /** Waits (bounded) until every subscription has everything acknowledged, then closes and reports. */
  async finish(expected: Expected, drainMs: number): Promise<SubscriberReport> {
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline && !this.subs.every((sub) => sub.tracker.caughtUp(expected))) await sleep(20);
    const report: SubscriberReport = {
      connections: this.subs.length - this.connectFailures,
      connectFailures: this.connectFailures,
      ...emptyCompleteness(),
      deliveries: this.deliveries,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      latency: encodeHistogram(this.latency.toHistogram()),
      replayDone: encodeHistogram(this.replayDone),
      replayComplete: this.replayDone.totalCount,
      closes: this.closes,
      resumes: this.resumes,
      errors: this.errors,
    };
    this.closing = true;
    for (const sub of this.subs) {
      addCompleteness(report, sub.tracker.completeness(expected));
    }
    await this.closeAll();
    return report;
  }

  async closeAll(): Promise<void> {
    const subs = this.subs.splice(0);
    for (let i = 0; i < subs.length; i += 500) await Promise.all(subs.slice(i, i + 500).map((sub) => sub.client.close().catch(() => {})));
  }
}
