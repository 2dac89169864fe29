import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { connect, type CloseInfo, type Entry } from '../../clients/sigcast-client.js';
import { CLOSE } from '../../src/errors.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';
import { throttledWebSocket } from '../support/throttled-websocket.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * MAX_LAG_MS on both transports, through the project's client: a reader that falls behind is
 * closed with 4008 `lagging` while it is less than twice the limit behind, and resumes without
 * loss; a reader that keeps within the limit through a long backlog is never closed, nor dropped
 * as silent although it sends nothing but the pongs to the server's probes.
 */
const TRANSPORTS = ['uws', 'ws'] as const;
type TestNode = Awaited<ReturnType<typeof startTestNode>>;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.stop());

interface Read {
  seq: number;
  ts: number;
  readAt: number;
}

async function counter(node: TestNode, name: 'lagDisconnects' | 'heartbeatTimeouts' | 'slowConsumerDisconnects'): Promise<number> {
  return (await node.metrics[name].get()).values[0]?.value ?? 0;
}

async function lagSamples(node: TestNode): Promise<{ count: number; atMost: (seconds: number) => number }> {
  const { values } = await node.metrics.lag.get();
  const count = values.find((value) => value.metricName === 'sigcast_lag_seconds_count')?.value ?? 0;
  const atMost = (seconds: number) => values.find((value) => value.metricName === 'sigcast_lag_seconds_bucket' && value.labels.le === seconds)?.value ?? 0;
  return { count, atMost };
}

/** ~400 bytes per entry on the wire. */
const PAD = { meta: { pad: 'x'.repeat(250) } };

async function publish(node: TestNode, channel: string, count: number): Promise<number> {
  const answer = await postSignals(node.baseUrl, Array.from({ length: count }, () => signal(channel, PAD)));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body.entries as Array<{ seq: number }>).at(-1)!.seq;
}

describe.each(TRANSPORTS)('lag over %s', (transport) => {
  test('a reader that falls behind is closed with 4008 lagging before it is twice MAX_LAG_MS behind, and resumes without loss', async () => {
    const maxLagMs = 1000;
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `lag-${transport}`, TRANSPORT: transport, MAX_LAG_MS: String(maxLagMs) });
    onTestFinished(() => node.stop());
    const channel = 'LAG.SLOW';
    // ~160 KB/s: about 400 entries/s, against a channel of ~1,000/s.
    const client = connect(node.wsUrl, { WebSocket: throttledWebSocket({ bytesPerTick: 16 * 1024, tickMs: 100 }), reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    onTestFinished(() => client.close());
    const reads: Read[] = [];
    const closes: CloseInfo[] = [];
    let lives = 0;
    let resets = 0;
    client.on('close', (info) => closes.push(info));
    client.subscribe(channel, { since: 0, onLive: () => (lives += 1), onReset: () => (resets += 1) }, (entry: Entry) =>
      reads.push({ seq: entry.seq, ts: entry.ts, readAt: Date.now() }),
    );
    await waitFor(() => lives === 1, 10_000, 'the subscription');

    // When the server closed it, seen from the server (the client learns it only once it read that far).
    let closedAt: number | undefined;
    const watch = setInterval(() => void counter(node, 'lagDisconnects').then((count) => (closedAt ??= count > 0 ? Date.now() : undefined)), 5);
    onTestFinished(() => clearInterval(watch));
    let acked = 0;
    let afterClose = 0;
    while (afterClose < 200) {
      expect(acked, 'the lagging reader was never closed').toBeLessThan(8000);
      acked = await publish(node, channel, 20);
      if (closedAt !== undefined) afterClose += 20;
      await delay(20);
    }
    await waitFor(() => reads.at(-1)?.seq === acked, 30_000, 'the resumed reader to catch up');

    expect(closes[0]).toMatchObject({ code: CLOSE.lagging.code, reason: CLOSE.lagging.reason });
    expect(closes.every((close) => close.code === CLOSE.lagging.code)).toBe(true);
    expect(reads.map((read) => read.seq)).toEqual(Array.from({ length: acked }, (_, i) => i + 1));
    expect(resets).toBe(0);
    // While it was open it never was twice the limit behind: neither what it read, nor where it stood when closed.
    const beforeClose = reads.filter((read) => read.readAt < closedAt!);
    const worstRead = Math.max(...beforeClose.map((read) => read.readAt - read.ts));
    const firstUnread = reads.find((read) => read.readAt >= closedAt!)!;
    expect(worstRead).toBeLessThan(2 * maxLagMs);
    expect(closedAt! - firstUnread.ts).toBeGreaterThan(maxLagMs * 0.9);
    expect(closedAt! - firstUnread.ts).toBeLessThan(2 * maxLagMs);
    expect(await counter(node, 'heartbeatTimeouts')).toBe(0);
    expect(await counter(node, 'slowConsumerDisconnects')).toBe(0);
    expect(await counter(node, 'lagDisconnects')).toBe(closes.length);
  });

  test('a reader that keeps within MAX_LAG_MS through a 10,000-entry backlog, for longer than the heartbeat, is never dropped', async () => {
    const heartbeatSeconds = 4;
    const node = await startTestNode({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `backlog-${transport}`,
      TRANSPORT: transport,
      HEARTBEAT_SECONDS: String(heartbeatSeconds),
      MAX_LAG_MS: '3000',
    });
    onTestFinished(() => node.stop());
    const channel = 'LAG.BACKLOG';
    // A full history first: the replay is the first 1,000 of the backlog.
    for (let batch = 0; batch < 10; batch += 1) await publish(node, channel, 100);
    // Reads for 150 ms once a second: always up to a second behind the ~1,000 entries/s published after the replay.
    const reader = throttledWebSocket({ bytesPerTick: Number.POSITIVE_INFINITY, tickMs: 1000, readMs: 150 });
    const client = connect(node.wsUrl, { WebSocket: reader, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    onTestFinished(() => client.close());
    const seqs: number[] = [];
    const closes: CloseInfo[] = [];
    client.on('close', (info) => closes.push(info));
    let lives = 0;
    client.subscribe(channel, { since: 0, onLive: () => (lives += 1) }, (entry: Entry) => seqs.push(entry.seq));
    // The replay is written at once: the reader is still reading it when the live stream starts.
    const started = Date.now();
    await waitFor(() => lives === 1, 10_000, 'the subscription');

    let acked = 1000;
    while (acked < 10_000) {
      acked = await publish(node, channel, 50);
      await delay(50);
    }
    await waitFor(() => seqs.at(-1) === acked, 30_000, 'the reader to read the whole backlog');

    expect(Date.now() - started, 'the read lasted longer than a heartbeat drop').toBeGreaterThan(2 * heartbeatSeconds * 1000);
    expect(closes).toEqual([]);
    expect(seqs).toEqual(Array.from({ length: acked }, (_, i) => i + 1));
    expect(await counter(node, 'heartbeatTimeouts')).toBe(0);
    expect(await counter(node, 'lagDisconnects')).toBe(0);
    // It was measured all along (a reader that answers quickly is probed every other tick), and it
    // did carry a backlog: probes waited behind data.
    const samples = await lagSamples(node);
    expect(samples.count).toBeGreaterThanOrEqual(6);
    expect(samples.count - samples.atMost(0.5), 'some probe waited behind the backlog').toBeGreaterThanOrEqual(1);
  });
});
