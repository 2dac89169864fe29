import { afterEach, describe, expect, it } from 'vitest';
import { createPublisher, type PublishResult } from '../../clients/publisher.js';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startTestNode, TestClient } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * Redis SIGKILLed in the middle of a steady stream, then restarted: with `appendonly yes` and
 * `appendfsync always` every acknowledged signal reaches every subscriber exactly once, in seq
 * order, and every signal refused meanwhile (503) is published again and delivered once. Without
 * persistence the history is gone: subscribers are told with `reset`, then get the new history.
 */
const CHANNEL = 'FAULT';
const TOTAL = 400;

type Node = Awaited<ReturnType<typeof startTestNode>>;
type EntryFrame = Extract<ServerFrame, { type: 'entry' }>;

describe('Redis killed mid-stream', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(persistence: boolean): Promise<{ redis: RedisServerHandle; node: Node; subscribers: TestClient[] }> {
    const redis = await startRedisServer({ persistence });
    cleanups.push(() => redis.stop());
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_RETRY_BASE_MS: '20', REDIS_RETRY_MAX_MS: '200', REDIS_COMMAND_TIMEOUT_MS: '1000' });
    cleanups.push(() => node.stop());
    const subscribers = await Promise.all(
      (['json', 'msgpack', 'json'] as const).map((encoding) => TestClient.connect(node.wsUrl, { encoding })),
    );
    cleanups.push(() => Promise.all(subscribers.map((client) => client.close())));
    for (const client of subscribers) await client.subscribe(CHANNEL);
    return { redis, node, subscribers };
  }

  /**
   * Publishes TOTAL signals, one every few ms, through the retrying publisher of clients/; Redis
   * is SIGKILLed a quarter of the way in and restarted 800 ms later. Resolves with every result.
   */
  async function streamThroughOutage(node: Node, redis: RedisServerHandle): Promise<{ results: PublishResult[]; retries: number }> {
    const publisher = createPublisher({ url: node.baseUrl, maxBatch: 20, lingerMs: 2, retry: { initialDelayMs: 50, maxDelayMs: 500, retryForMs: 60_000 } });
    cleanups.push(() => publisher.close());
    const pending: Array<Promise<PublishResult>> = [];
    let outage: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i += 1) {
      pending.push(publisher.publish({ symbol: CHANNEL, side: i % 2 ? 'BUY' : 'SELL', strength: (i % 10) / 10, id: `sig-${i}` }));
      if (i === TOTAL / 4) {
        outage = (async () => {
          await redis.kill();
          // Down for real: readiness and ingest both say so while it is.
          await waitFor(async () => (await fetch(`${node.baseUrl}/readyz`)).status === 503, 5000, '/readyz to fail');
          await delay(800);
          await redis.restart();
        })();
      }
      await delay(3);
    }
    await outage;
    const results = await Promise.all(pending);
    await waitFor(async () => (await fetch(`${node.baseUrl}/readyz`)).status === 200, 10_000, '/readyz to recover');
    return { results, retries: publisher.stats.retries };
  }

  /** 503 `unavailable` answers the node gave (from its own metrics). */
  async function unavailableAnswers(node: Node): Promise<number> {
    const text = await (await fetch(`${node.baseUrl}/metrics`)).text();
    return Number(/^sigcast_protocol_errors_total\{code="unavailable"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  }

  function entries(client: TestClient): EntryFrame[] {
    return client.entries(CHANNEL);
  }

  it('with appendonly yes + appendfsync always: every acknowledged signal exactly once, in seq order, on every subscriber', async () => {
    const { redis, node, subscribers } = await setUp(true);
    const { results, retries } = await streamThroughOutage(node, redis);

    // The outage was real: requests were refused (503) or cut, and the publisher sent them again.
    expect(retries).toBeGreaterThan(0);
    expect(await unavailableAnswers(node)).toBeGreaterThan(0);
    const retried = results.filter((result) => result.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    // One history: the epoch survived, and the acknowledged seqs are exactly 1..TOTAL.
    expect(new Set(results.map((result) => result.epoch)).size).toBe(1);
    expect(results.map((result) => result.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    const idOfSeq = new Map(results.map((result) => [result.seq, result.id]));

    for (const client of subscribers) {
      await waitFor(() => entries(client).length >= TOTAL, 15_000, 'every entry on every subscriber');
      await delay(100); // a duplicate would arrive right after
      const got = entries(client);
      expect(got.map((entry) => entry.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      expect(got.every((entry) => entry.signal.id === idOfSeq.get(entry.seq))).toBe(true);
      expect(client.ofType('reset')).toEqual([]);
    }
    // Each signal that needed a retry was delivered once like the others (checked above by seq and id).
    const delivered = new Set(entries(subscribers[0]!).map((entry) => entry.signal.id));
    expect(retried.every((result) => delivered.has(result.id))).toBe(true);
  });

  it('without persistence: subscribers get `reset` for the lost history, then the new history, once and in order', async () => {
    const { redis, node, subscribers } = await setUp(false);
    const { results, retries } = await streamThroughOutage(node, redis);
    expect(retries).toBeGreaterThan(0);
    expect(await unavailableAnswers(node)).toBeGreaterThan(0);

    const epochs = [...new Set(results.map((result) => result.epoch))];
    expect(epochs).toHaveLength(2); // the history before the kill, and the new one
    const [, newEpoch] = epochs as [string, string];
    const newHistory = results.filter((result) => result.epoch === newEpoch);
    // The new history holds exactly the signals acknowledged in it, from seq 1.
    expect(newHistory.map((result) => result.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: newHistory.length }, (_, i) => i + 1));
    const idOfNewSeq = new Map(newHistory.map((result) => [result.seq, result.id]));

    for (const client of subscribers) {
      await waitFor(() => entries(client).filter((entry) => entry.epoch === newEpoch).length >= newHistory.length, 15_000, 'the new history');
      await delay(100);
      const frames = client.frames.filter((frame) => (frame.type === 'entry' || frame.type === 'reset') && frame.channel === CHANNEL);
      const firstNew = frames.findIndex((frame) => frame.type === 'entry' && frame.epoch === newEpoch);
      const before = frames.slice(0, firstNew);
      const after = frames.slice(firstNew);
      // Before the new history: the old one, contiguous from 1, then the reset that tells of its loss.
      const old = before.filter((frame): frame is EntryFrame => frame.type === 'entry');
      expect(old.length).toBeGreaterThan(0);
      expect(old.map((entry) => entry.seq)).toEqual(Array.from({ length: old.length }, (_, i) => i + 1));
      const resets = before.filter((frame) => frame.type === 'reset');
      expect(resets.length).toBeGreaterThanOrEqual(1);
      expect(resets.every((frame) => frame.type === 'reset' && frame.reason === 'epoch_changed')).toBe(true);
      expect(before.at(-1)?.type).toBe('reset');
      // After it: the new history exactly, and nothing else.
      const fresh = after.filter((frame): frame is EntryFrame => frame.type === 'entry');
      expect(after.length).toBe(fresh.length);
      expect(fresh.map((entry) => entry.seq)).toEqual(Array.from({ length: newHistory.length }, (_, i) => i + 1));
      expect(fresh.every((entry) => entry.epoch === newEpoch && entry.signal.id === idOfNewSeq.get(entry.seq))).toBe(true);
    }
  });
});
