// Resource test: 5,000 connections opened and dropped against a node in its own process, on a
// private Redis, twice. Each subscribes to warm and new channels and goes away without a close
// frame, half of them while their subscribes are still being admitted or synced. Bound: after
// each round the node's metrics are back where they were (connections, subscriptions, channels,
// broker subscriptions, waiting subscribes), Redis holds only the warm channels' subscriptions,
// and at the end every count is 0; the node's RSS stays under RSS_BOUND above where it started, and
// the second round leaves it within RSS_SLACK of where the first left it (the first grows the
// heap; GC timing moves it by some tens of MiB; a leak of what 5,000 connections hold would grow
// it again by more).
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB, startNodeProcess, type NodeProcess } from '../support/node-process.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { rawSocketOf, redisChannels, sendInOneWrite } from '../support/resources.js';
import { postSignals, signal, TestClient } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

const CONNECTIONS = 5000;
const WAVE = 250;
const WARM = 20;
const RSS_SLACK = 64 * MiB;
const RSS_BOUND = 128 * MiB;
const PREFIX = 'churn';

let redis: RedisServerHandle;
let client: Redis;
let node: NodeProcess;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  node = await startNodeProcess({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX });
});
afterAll(async () => {
  await node?.stop();
  client?.disconnect();
  await redis?.stop();
});

describe('5,000 connections opened and dropped', () => {
  it('leave every metric at 0 and nothing in Redis', { timeout: 300_000 }, async () => {
    const warm = Array.from({ length: WARM }, (_, i) => `HOT.${i}`);
    for (const channel of warm) expect((await postSignals(node.baseUrl, Array.from({ length: 100 }, () => signal(channel)))).status).toBe(200);
    const keeper = await TestClient.connect(node.wsUrl);
    for (const channel of warm) await keeper.subscribe(channel);
    await delay(500);
    const rss = [node.rss()];
    let peakRss = rss[0]!;

    for (let round = 0; round < 2; round++) {
      for (let wave = 0; wave < CONNECTIONS / WAVE; wave++) {
        const clients = await Promise.all(Array.from({ length: WAVE }, () => TestClient.connect(node.wsUrl)));
        clients.forEach((churn, i) => {
          const n = wave * WAVE + i;
          sendInOneWrite(churn.socket, [
            JSON.stringify({ op: 'subscribe', channel: warm[n % WARM], last: 100 }),
            JSON.stringify({ op: 'subscribe', channel: warm[(n + 7) % WARM], last: 10 }),
            JSON.stringify({ op: 'subscribe', channel: `COLD.${n % 500}`, last: 5 }),
          ]);
        });
        // Half go at once, mid-subscribe; the others once they were answered.
        clients.slice(0, WAVE / 2).forEach((churn) => rawSocketOf(churn.socket).destroy());
        await Promise.all(
          clients.slice(WAVE / 2).map((churn) => churn.waitForFrame((frame) => frame.type === 'live' && frame.channel.startsWith('COLD.'), 20_000)),
        );
        clients.slice(WAVE / 2).forEach((churn) => rawSocketOf(churn.socket).destroy());
        peakRss = Math.max(peakRss, node.rss());
      }
      await waitFor(async () => (await node.metric('sigcast_connections')) === 1, 30_000, 'every churned connection gone', 200);
      await waitFor(async () => (await node.metric('sigcast_channels')) === WARM, 30_000, 'the cold feeds to close', 200);
      expect(await node.metric('sigcast_subscriptions')).toBe(WARM);
      expect(await node.metric('sigcast_subscribes_waiting')).toBe(0);
      await waitFor(async () => (await node.metric('sigcast_broker_subscriptions')) === WARM, 10_000, 'the broker count');
      await waitFor(async () => (await redisChannels(client, PREFIX)).length === WARM, 10_000, 'Redis to hold the warm channels only', 200);
      await delay(2000);
      rss.push(node.rss());
    }

    await keeper.close();
    await waitFor(async () => (await node.metric('sigcast_channels')) === 0, 30_000, 'every feed closed', 200);
    for (const name of ['sigcast_connections', 'sigcast_subscriptions', 'sigcast_broker_subscriptions', 'sigcast_subscribes_waiting', 'sigcast_ingest_in_flight']) {
      expect(await node.metric(name), name).toBe(0);
    }
    await waitFor(async () => (await redisChannels(client, PREFIX)).length === 0, 10_000, 'Redis to hold no subscription', 200);
    process.stdout.write(
      `connection churn: 2 x ${CONNECTIONS} connections; node RSS ${rss.map((bytes) => (bytes / MiB).toFixed(0)).join(' -> ')} MiB ` +
        `(before, after each round), peak ${(peakRss / MiB).toFixed(0)} MiB\n`,
    );
    expect(rss[2]!).toBeLessThan(rss[1]! + RSS_SLACK);
    expect(Math.max(...rss)).toBeLessThan(rss[0]! + RSS_BOUND);
  });
});
