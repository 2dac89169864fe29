import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import WebSocket from 'ws';
import { connect, type CloseInfo, type DeliveredEntry, type SigcastClient } from '../../clients/sigcast-client.js';
import { CLOSE } from '../../src/errors.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { throttledWebSocket } from '../support/throttled-websocket.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * Conflated subscriptions through the project's client, against a real redis-server: a UI feed of
 * the newest entry per interval, with `replaced` counting what it stands for, beside an exact
 * subscriber that gets everything; and a conflated feed that falls behind skips ahead instead of
 * being closed. Rates are loose on purpose: the machine is shared.
 */
const TARGETS = [
  { transport: 'uws', encoding: 'json' },
  { transport: 'ws', encoding: 'msgpack' },
] as const;
type TestNode = Awaited<ReturnType<typeof startTestNode>>;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.stop());

interface Got {
  seq: number;
  replaced: number;
  ts: number;
  at: number;
}

function record(into: Got[]): (entry: DeliveredEntry) => void {
  return (entry) => into.push({ seq: entry.seq, replaced: entry.replaced ?? -1, ts: entry.ts, at: Date.now() });
}

/** Resolves once the subscription's replay is done. */
function subscribed(client: SigcastClient, channel: string, options: { conflate?: number }, onEntry: (entry: DeliveredEntry) => void): Promise<void> {
  return new Promise((resolve, reject) => client.subscribe(channel, { ...options, onLive: () => resolve(), onError: reject }, onEntry));
}

/** Publishes `perBatch` signals every `everyMs` for `forMs`; returns the last seq and how long it took. */
async function stream(node: TestNode, channel: string, options: { perBatch: number; everyMs: number; forMs: number; extra?: Record<string, unknown> }) {
  const started = Date.now();
  let last = 0;
  while (Date.now() - started < options.forMs) {
    const answer = await postSignals(node.baseUrl, Array.from({ length: options.perBatch }, () => signal(channel, options.extra)));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    last = (answer.body.entries as Array<{ seq: number }>).at(-1)!.seq;
    await delay(options.everyMs);
  }
  return { last, tookMs: Date.now() - started };
}

/** Each entry's `replaced` is exactly the seqs between it and the one before (or the start). */
function expectAddsUp(got: Got[], start: number, last: number): void {
  let previous = start;
  for (const entry of got) {
    expect(entry.replaced, `entry ${entry.seq} after ${previous}`).toBe(entry.seq - previous - 1);
    previous = entry.seq;
  }
  expect(got.reduce((sum, entry) => sum + entry.replaced + 1, 0)).toBe(last - start);
}

describe.each(TARGETS)('conflated subscriptions over $transport with $encoding', ({ transport, encoding }) => {
  test('at 100 ms on a channel at ~1,000 signals/s: about 10 entries a second, each the newest, replaced counts adding up, while an exact subscriber gets all', async () => {
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `conflate-${transport}`, TRANSPORT: transport });
    onTestFinished(() => node.stop());
    const channel = 'CONFLATE.FAST';
    const exact = connect(node.wsUrl, { WebSocket, encoding });
    const ui = connect(node.wsUrl, { WebSocket, encoding });
    onTestFinished(() => Promise.all([exact.close(), ui.close()]).then(() => undefined));
    const all: Got[] = [];
    const sampled: Got[] = [];
    await Promise.all([subscribed(exact, channel, {}, record(all)), subscribed(ui, channel, { conflate: 100 }, record(sampled))]);

    const { last, tookMs } = await stream(node, channel, { perBatch: 20, everyMs: 20, forMs: 3000 });
    await waitFor(() => all.at(-1)?.seq === last && sampled.at(-1)?.seq === last, 10_000, 'both subscribers to reach the last entry');

    expect(all.map((entry) => entry.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(all.every((entry) => entry.replaced === -1)).toBe(true);
    expectAddsUp(sampled, 0, last);
    const perSecond = (sampled.length * 1000) / tookMs;
    expect(perSecond, `${sampled.length} samples in ${tookMs} ms of ${last} signals`).toBeGreaterThan(4);
    expect(perSecond).toBeLessThan(14);
    // Each sample was the newest when it was taken: fresh when it arrived (~1,000/s means a new one every ms).
    for (const entry of sampled) expect(entry.at - entry.ts, `age of sample ${entry.seq}`).toBeLessThan(1000);
    expect(last / sampled.length, 'entries per sample').toBeGreaterThan(10);
  });

  test('a lagging connection whose feeds are all conflated skips ahead; one with an exact feed as well is closed with 4008 lagging', async () => {
    const maxLagMs = 1000;
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `conflate-lag-${transport}`, TRANSPORT: transport, MAX_LAG_MS: String(maxLagMs) });
    onTestFinished(() => node.stop());
    const busy = 'CONFLATE.BUSY';
    // ~2 KB entries sampled every 20 ms: ~100 KB/s, read at ~30 KB/s.
    const reader = throttledWebSocket({ bytesPerTick: 3 * 1024, tickMs: 100 });
    const options = { WebSocket: reader, encoding, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } };
    const ui = connect(node.wsUrl, options);
    const mixed = connect(node.wsUrl, options);
    const closes: Record<'ui' | 'mixed', CloseInfo[]> = { ui: [], mixed: [] };
    ui.on('close', (info) => closes.ui.push(info));
    mixed.on('close', (info) => closes.mixed.push(info));
    const sampled: Got[] = [];
    await Promise.all([
      subscribed(ui, busy, { conflate: 20 }, record(sampled)),
      subscribed(mixed, busy, { conflate: 20 }, () => {}),
      subscribed(mixed, 'CONFLATE.QUIET', {}, () => {}),
    ]);

    const meta = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`pad${i}`, 'x'.repeat(240)]));
    const { last } = await stream(node, busy, { perBatch: 10, everyMs: 20, forMs: 4000, extra: { meta } });
    await waitFor(() => sampled.at(-1)?.seq === last, 30_000, 'the conflated reader to skip to the last entry');
    // What the server did while it served them (after the stop, the clients try to reconnect).
    const uiCloses = [...closes.ui];
    await node.stop();
    await Promise.all([ui.close(), mixed.close()]);

    const skips = (await node.metrics.lagSkips.get()).values[0]?.value ?? 0;
    expect(skips, 'the conflated reader was never behind').toBeGreaterThan(0);
    expect(uiCloses).toEqual([]);
    expectAddsUp(sampled, 0, last);
    // Skipping ahead: some sample stood for far more than the 20 ms of entries it replaces when reading keeps up.
    expect(Math.max(...sampled.map((entry) => entry.replaced))).toBeGreaterThan(50);
    expect(closes.mixed[0]).toMatchObject({ code: CLOSE.lagging.code, reason: CLOSE.lagging.reason });
    expect((await node.metrics.heartbeatTimeouts.get()).values[0]?.value ?? 0).toBe(0);
  }, 60_000);

  test('conflate must be a whole number of ms in 10..60000', async () => {
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `conflate-bad-${transport}`, TRANSPORT: transport });
    onTestFinished(() => node.stop());
    const client = await TestClient.connect(node.wsUrl, { encoding });
    onTestFinished(() => client.close());
    for (const [id, conflate] of [['low', 9], ['high', 60_001], ['fraction', 100.5], ['text', '100']] as const) {
      expect(await client.request({ op: 'subscribe', id, channel: 'CONFLATE.BAD', conflate })).toMatchObject({ type: 'error', id, code: 'invalid_frame' });
    }
    expect(await client.request({ op: 'subscribe', id: 'ok', channel: 'CONFLATE.BAD', conflate: 10 })).toMatchObject({ type: 'subscribed', id: 'ok' });
  });
});
