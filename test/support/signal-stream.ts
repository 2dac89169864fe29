// A stream of signals through several sigcast nodes with the project's own client, and the check
// of what every subscriber got: publishers and subscribers are spread over the nodes, reconnect to
// another node when theirs goes away, and publishers retry a publish with the same ids until it is
// acknowledged. The truth is each channel's final history.
import { expect } from 'vitest';
import WebSocket from 'ws';
import { connect, type Entry, type ResetFrame, type SigcastClient } from '../../clients/sigcast-client.js';
import { waitFor } from './wait.js';

export type Urls = () => string;

/** Cycles over the nodes' /v1/ws URLs, starting at `first`: a client that loses its node tries the next. */
export function rotating(wsUrls: readonly string[], first: number): Urls {
  let next = first;
  return () => wsUrls[next++ % wsUrls.length]!;
}

const RECONNECT = { initialDelayMs: 50, maxDelayMs: 500 };

export type Delivered = { kind: 'entry'; seq: number; epoch: string; id: string } | { kind: 'reset'; epoch: string; fromSeq: number; reason: string };

/** One subscriber connection on several channels, recording entries and resets per channel. */
export class RecordingSubscriber {
  readonly client: SigcastClient;
  readonly events = new Map<string, Delivered[]>();
  private lives = 0;

  constructor(urls: Urls, readonly channels: readonly string[]) {
    this.client = connect(urls, { WebSocket, encoding: 'msgpack', reconnect: RECONNECT, requestTimeoutMs: 5000 });
    this.client.on('error', () => {}); // socket errors while a node is down: it reconnects
    for (const channel of channels) {
      const events: Delivered[] = [];
      this.events.set(channel, events);
      const onReset = (reset: ResetFrame) => events.push({ kind: 'reset', epoch: reset.epoch, fromSeq: reset.fromSeq, reason: reset.reason });
      const onEntry = (entry: Entry) => events.push({ kind: 'entry', seq: entry.seq, epoch: entry.epoch, id: entry.signal.id });
      // since 0: every entry from the first one, whichever node serves the connection.
      this.client.subscribe(channel, { since: 0, onReset, onLive: () => (this.lives += 1) }, onEntry);
    }
  }

  /** Resolves once every channel is live (the first subscribe of each is done). */
  async live(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.lives >= this.channels.length, timeoutMs, 'the subscriptions to be live');
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export interface PublishPlan {
  channels: readonly string[];
  perChannel: number;
  /** Signals per publish (over several channels). */
  batch: number;
  /** Called after each acknowledged publish with the number acknowledged so far (and which). */
  onProgress?: (acked: number, byChannel: Acked) => void;
}

/** What the publishers were told was stored: channel -> ids. */
export type Acked = Map<string, Set<string>>;

/**
 * Publishes `perChannel` signals to every channel, round robin, from one client per entry of
 * `urls`; a publish that fails (node gone, 503) is sent again with the same ids until acknowledged.
 */
export async function publishAll(urls: readonly Urls[], plan: PublishPlan, deadlineMs = 120_000): Promise<Acked> {
  const items = plan.channels.flatMap((channel) => Array.from({ length: plan.perChannel }, (_, n) => ({ channel, n })));
  // Interleave channels so that every publish spans several of them.
  items.sort((a, b) => a.n - b.n || plan.channels.indexOf(a.channel) - plan.channels.indexOf(b.channel));
  const batches: Array<typeof items> = [];
  for (let i = 0; i < items.length; i += plan.batch) batches.push(items.slice(i, i + plan.batch));
  const acked: Acked = new Map(plan.channels.map((channel) => [channel, new Set<string>()]));
  let count = 0;
  const deadline = Date.now() + deadlineMs;
  const clients = urls.map((url) => connect(url, { WebSocket, reconnect: RECONNECT, requestTimeoutMs: 5000 }));
  for (const client of clients) client.on('error', () => {});
  try {
    await Promise.all(
      clients.map(async (client, p) => {
        for (let b = p; b < batches.length; b += clients.length) {
          const signals = batches[b]!.map(({ channel, n }) => ({ symbol: channel, side: 'BUY' as const, strength: 0.5, id: `${channel}-${n}` }));
          for (;;) {
            if (Date.now() > deadline) throw new Error(`publisher ${p} could not get batch ${b} acknowledged in time`);
            try {
              const entries = await client.publish(signals);
              for (const entry of entries) acked.get(entry.channel)?.add(entry.id);
              count += signals.length;
              plan.onProgress?.(count, acked);
              break;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 50)); // and again, with the same ids
            }
          }
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  return acked;
}

export interface HistoryEntry {
  seq: number;
  epoch: string;
  signal: { id: string };
}

/** A channel's retained history (oldest first) from a node's HTTP API. */
export async function historyOf(baseUrl: string, channel: string): Promise<{ epoch: string; headSeq: number; entries: HistoryEntry[] }> {
  const response = await fetch(`${baseUrl}/v1/channels/${encodeURIComponent(channel)}/history?last=1000`);
  if (response.status !== 200) throw new Error(`history of ${channel}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { epoch: string; headSeq: number; entries: HistoryEntry[] };
}

/**
 * What one subscriber got of one channel, against the final history: after its last reset (or
 * from the start when there was none) exactly the history from there on, in order, once.
 * Returns the problems found ([] when none).
 */
export function deliveryProblems(events: readonly Delivered[], history: { epoch: string; entries: readonly HistoryEntry[] }): string[] {
  const lastReset = events.map((event) => event.kind).lastIndexOf('reset');
  const after = events.slice(lastReset + 1).filter((event): event is Extract<Delivered, { kind: 'entry' }> => event.kind === 'entry');
  const reset = lastReset >= 0 ? (events[lastReset] as Extract<Delivered, { kind: 'reset' }>) : undefined;
  const expected = history.entries.filter((entry) => reset === undefined || entry.seq >= reset.fromSeq);
  const got = after.map((event) => `${event.epoch}:${event.seq}:${event.id}`);
  const want = expected.map((entry) => `${entry.epoch}:${entry.seq}:${entry.signal.id}`);
  if (got.join(',') === want.join(',')) return [];
  const missing = want.filter((item) => !got.includes(item));
  const extra = got.filter((item) => !want.includes(item));
  return [`got ${got.length} entries after ${reset ? `a reset to ${reset.fromSeq}` : 'the start'}, expected ${want.length}; missing ${missing.slice(0, 3).join(' ')}; extra ${extra.slice(0, 3).join(' ')}`];
}

/** Waits until every subscriber holds as many entries (after its last reset) as each channel's history. */
export async function waitForDelivery(subscribers: readonly RecordingSubscriber[], baseUrl: () => string, timeoutMs: number): Promise<void> {
  const histories = new Map<string, Awaited<ReturnType<typeof historyOf>>>();
  await waitFor(
    async () => {
      for (const subscriber of subscribers) {
        for (const channel of subscriber.channels) {
          const history = histories.get(channel) ?? (await historyOf(baseUrl(), channel));
          histories.set(channel, history);
          if (deliveryProblems(subscriber.events.get(channel) ?? [], history).length > 0) {
            histories.delete(channel); // read it again next time: it may still be moving
            return false;
          }
        }
      }
      return true;
    },
    timeoutMs,
    'every subscriber to hold its channels exactly',
    100,
  );
}

/** Publishes the plan through `urls` and SIGKILLs `victim` once `killAt` entries were acknowledged. */
export async function publishAllKilling(urls: readonly Urls[], plan: Omit<PublishPlan, 'onProgress'>, victim: { stop(signal: 'SIGKILL'): Promise<unknown> }, killAt: number): Promise<{ acked: Acked; killed: boolean }> {
  let killed = false;
  const acked = await publishAll(urls, {
    ...plan,
    onProgress: (count) => {
      if (killed || count < killAt) return;
      killed = true;
      void victim.stop('SIGKILL');
    },
  });
  return { acked, killed };
}

/**
 * Checks, against each channel's final history on `baseUrl`, that it holds seqs 1..perChannel with
 * exactly the acknowledged ids, and that every subscriber of it got those entries once, in order,
 * with no reset. Returns the entries counted over all channels.
 */
export async function expectExactlyOnce(
  baseUrl: string,
  channels: readonly string[],
  perChannel: number,
  acked: Acked,
  subscribers: readonly RecordingSubscriber[],
): Promise<number> {
  let total = 0;
  for (const channel of channels) {
    const history = await historyOf(baseUrl, channel);
    // Each acknowledged id stored once: the retries of the publishes cut off by a kill were duplicates.
    expect(history.headSeq, channel).toBe(perChannel);
    expect(history.entries.map((entry) => entry.seq), channel).toEqual(Array.from({ length: perChannel }, (_, i) => i + 1));
    expect(new Set(history.entries.map((entry) => entry.signal.id)), channel).toEqual(acked.get(channel));
    total += history.entries.length;
    for (const subscriber of subscribers.filter((s) => s.channels.includes(channel))) {
      const events = subscriber.events.get(channel)!;
      expect(events.filter((event) => event.kind === 'reset'), channel).toEqual([]);
      expect(deliveryProblems(events, history), channel).toEqual([]);
    }
  }
  return total;
}
