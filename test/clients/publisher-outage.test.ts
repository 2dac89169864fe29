import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPublisher, type PublishResult } from '../../clients/publisher.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startTestNode } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * The publisher's promise to a bot: Redis going away for a few seconds in the middle of a stream
 * of 10,000 signals costs nothing, and stores nothing twice. The server answers 503 (or the
 * connection fails) while Redis is gone; the publisher retries with the same ids; afterwards each
 * channel holds every signal exactly once, in publish order.
 */
const TOTAL = 10_000;
const CHANNELS = 10;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer({ persistence: true });
});
afterAll(async () => {
  await redis?.stop();
});

interface HistoryEntry {
  seq: number;
  signal: { id: string };
}

async function history(baseUrl: string, channel: string): Promise<{ headSeq: number; entries: HistoryEntry[] }> {
  const response = await fetch(`${baseUrl}/v1/channels/${channel}/history?last=1000`);
  expect(response.status).toBe(200);
  return (await response.json()) as { headSeq: number; entries: HistoryEntry[] };
}

const outages = {
  /** SIGSTOP: Redis keeps its sockets open but answers nothing, then catches up on SIGCONT. */
  paused: async () => {
    redis.pause();
    await delay(3_000);
    redis.resume();
  },
  /** SIGKILL, then a restart on the same port from its append-only file (fsync always). */
  killed: async () => {
    await redis.kill();
    await delay(2_500);
    await redis.restart();
  },
};

describe.each([
  { transport: 'http', outage: 'paused' },
  { transport: 'websocket', outage: 'killed' },
] as const)('publisher over $transport with Redis $outage mid-stream (real redis-server)', ({ transport, outage }) => {
  it(`stores each of ${TOTAL} signals exactly once, in publish order`, { timeout: 120_000 }, async () => {
    const prefix = `pub-${transport}-${outage}`;
    const node = await startTestNode({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      HISTORY_SIZE: '2000',
      REDIS_COMMAND_TIMEOUT_MS: '500',
      REDIS_RETRY_BASE_MS: '20',
      REDIS_RETRY_MAX_MS: '200',
    });
    const url = transport === 'http' ? node.baseUrl : node.wsUrl;
    const publisher = createPublisher({ url, WebSocket, maxBatch: 200, maxQueue: TOTAL, requestTimeoutMs: 2_000, retry: { initialDelayMs: 50, maxDelayMs: 500 } });
    const channelOf = (i: number) => `${prefix}.${i % CHANNELS}`;
    const results: Array<Promise<PublishResult>> = [];
    const ids: string[] = [];

    // About 2,000 signals/s, so the stream is still running when Redis goes away and comes back.
    const producer = (async () => {
      for (let i = 0; i < TOTAL; i += 1) {
        if (i % 20 === 0) await delay(10);
        const result = publisher.publish({ symbol: 'BTCUSDT', side: i % 2 ? 'BUY' : 'SELL', strength: (i % 100) / 100, channels: [channelOf(i)], meta: { i } });
        results.push(result);
      }
    })();
    await waitFor(() => publisher.stats.published >= 2_000, 30_000, '2,000 signals stored before the outage');
    const publishedBefore = publisher.stats.published;
    await outages[outage]();
    await producer;
    const settled = await Promise.allSettled(results);
    await publisher.close();

    const failures = settled.filter((result) => result.status === 'rejected');
    expect(failures).toEqual([]);
    expect(publishedBefore).toBeLessThan(TOTAL);
    expect(publisher.stats.retries).toBeGreaterThan(0);
    const stored = settled.map((result) => (result as PromiseFulfilledResult<PublishResult>).value);
    for (const result of stored) ids.push(result.id);
    expect(new Set(ids).size).toBe(TOTAL);
    if (outage === 'paused') {
      // A paused Redis runs the timed-out appends when it wakes: their retries were answered as
      // duplicates, with the seq the first attempt got.
      expect(stored.filter((result) => result.duplicate).length).toBeGreaterThan(0);
    }

    for (let c = 0; c < CHANNELS; c += 1) {
      const channel = channelOf(c);
      const page = await history(node.baseUrl, channel);
      const published = stored.filter((_, i) => i % CHANNELS === c);
      // Exactly one entry per signal: seq 1..1000, no more (a duplicate would have taken seq 1001).
      expect(page.headSeq).toBe(published.length);
      expect(page.entries.map((entry) => entry.seq)).toEqual(published.map((_, i) => i + 1));
      // In publish order, and each promise resolved with the seq its signal is stored at.
      expect(page.entries.map((entry) => entry.signal.id)).toEqual(published.map((result) => result.id));
      expect(published.map((result) => result.seq)).toEqual(published.map((_, i) => i + 1));
    }
    await node.stop();
  });
});
