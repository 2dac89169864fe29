// Guarantee 7 with real processes: 3 sigcast nodes on one redis-server, the project's client on
// both ends, and a node SIGKILLed in the middle of 10,000 signals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { type SigcastProcess, startSigcastProcess } from '../support/sigcast-process.js';
import { expectExactlyOnce, publishAllKilling, RecordingSubscriber, rotating, waitForDelivery } from '../support/signal-stream.js';

const CHANNELS = Array.from({ length: 50 }, (_, i) => `MANY${String(i).padStart(2, '0')}`);
const PER_CHANNEL = 200;

describe('3 sigcast nodes on one redis-server', () => {
  let redis: RedisServerHandle;
  let nodes: SigcastProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    nodes = await Promise.all([0, 1, 2].map((i) => startSigcastProcess({ NODE_ID: `many-${i}`, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'many' })));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.stop();
  });

  it('10,000 signals on 50 channels from every node, a node SIGKILLed mid-stream: every subscriber gets exactly its channels, in order, once', async () => {
    const wsUrls = nodes.map((node) => node.wsUrl);
    // Six subscribers, two per node; each channel has two of them, on different nodes.
    const subscribers = [0, 1, 2, 3, 4, 5].map((k) => new RecordingSubscriber(rotating(wsUrls, k % 3), CHANNELS.filter((_, i) => i % 3 === k % 3)));
    const victim = nodes[1]!;
    const closesOnVictim = [1, 4].map((k) => {
      const closes: number[] = [];
      subscribers[k]!.client.on('close', (info) => closes.push(info.code));
      return closes;
    });
    try {
      await Promise.all(subscribers.map((subscriber) => subscriber.live()));
      const { acked, killed } = await publishAllKilling([0, 1, 2, 1].map((p) => rotating(wsUrls, p)), { channels: CHANNELS, perChannel: PER_CHANNEL, batch: 50 }, victim, 4000);
      expect(killed).toBe(true);
      const survivor = nodes[0]!;
      await waitForDelivery(subscribers, () => survivor.baseUrl, 60_000);
      const total = await expectExactlyOnce(survivor.baseUrl, CHANNELS, PER_CHANNEL, acked, subscribers);
      expect(total).toBe(10_000);
      // The victim's subscribers lost their connection (1006) and resumed on another node.
      for (const closes of closesOnVictim) expect(closes).toContain(1006);
    } finally {
      await Promise.all(subscribers.map((subscriber) => subscriber.close()));
    }
  });
});
