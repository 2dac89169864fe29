// Finding 2 of issue 9 and its neighbours: however a connection goes away in the middle of a
// burst of subscribes (dropped as a slow consumer, or gone by itself), every subscription, feed
// and Redis subscription it had is released, on both transports.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { nodeCounts, numSub, rawSocketOf, redisChannels, sendInOneWrite, subscriberConnectionSubs } from '../support/resources.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

let redis: RedisServerHandle;
let client: Redis;
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const CHANNELS = 100;
const ENTRIES = 1000;
/** About 600 bytes per entry: each full replay is ~600 KB, far past the send buffer below. */
const META = { note: 'x'.repeat(256), more: 'y'.repeat(256) };

async function warmNode(transport: 'uws' | 'ws') {
  const prefix = `leak${++prefixes}`;
  const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, TRANSPORT: transport, SEND_BUFFER_BYTES: '65536' });
  onTestFinished(() => node.stop());
  const channels = Array.from({ length: CHANNELS }, (_, i) => `WARM.${i}`);
  for (const channel of channels) {
    const batch = Array.from({ length: ENTRIES }, () => signal(channel, { meta: META }));
    expect((await postSignals(node.baseUrl, batch)).status).toBe(200);
  }
  // A reading subscriber keeps every channel warm (its ring in memory) for the whole test.
  const keeper = await TestClient.connect(node.wsUrl);
  onTestFinished(() => keeper.close());
  for (const channel of channels) await keeper.subscribe(channel);
  return { node, prefix, channels, keeper };
}

describe.each(['ws', 'uws'] as const)('%s transport: no leak when a connection goes away inside a burst of subscribes', (transport) => {
  it('a client that stops reading and sends 100 `subscribe last:1000` to warm channels in one write', async () => {
    const { node, prefix, channels, keeper } = await warmNode(transport);
    const lives = channels.map((channel) => channelKeys(prefix, channel).live);
    expect(await nodeCounts(node.metrics)).toEqual({ connections: 1, subscriptions: CHANNELS, channels: CHANNELS });

    const slow = await TestClient.connect(node.wsUrl);
    slow.pauseReading();
    sendInOneWrite(
      slow.socket,
      channels.map((channel, i) => JSON.stringify({ op: 'subscribe', id: i, channel, last: ENTRIES })),
    );
    // Dropped by the server (4008 past its send buffer) or, at the latest, by itself: either way
    // it leaves nothing behind.
    const dropped = await waitFor(async () => (await nodeCounts(node.metrics)).connections === 1, 10_000, 'the slow consumer to be closed').then(
      () => true,
      () => false,
    );
    if (!dropped) rawSocketOf(slow.socket).destroy();
    await waitFor(async () => (await nodeCounts(node.metrics)).connections === 1, 10_000, 'the slow connection to be gone');
    await waitFor(async () => (await nodeCounts(node.metrics)).subscriptions === CHANNELS, 5000, 'its subscriptions to be released');
    expect(await nodeCounts(node.metrics)).toEqual({ connections: 1, subscriptions: CHANNELS, channels: CHANNELS });
    expect(await numSub(client, lives)).toEqual(lives.map(() => 1));
    expect(node.broker.liveSubscriptions).toBe(CHANNELS);

    await keeper.close();
    await waitFor(async () => (await nodeCounts(node.metrics)).channels === 0, 5000, 'every feed to close');
    expect(await nodeCounts(node.metrics)).toEqual({ connections: 0, subscriptions: 0, channels: 0 });
    await waitFor(async () => (await redisChannels(client, prefix)).length === 0, 5000, 'Redis to hold no subscription');
    expect(await subscriberConnectionSubs(client)).toBe(0);
    expect(node.broker.liveSubscriptions).toBe(0);
  });

  it('a client that vanishes (TCP reset) while its subscribes to new channels are still syncing', async () => {
    const prefix = `leak${++prefixes}`;
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, TRANSPORT: transport });
    onTestFinished(() => node.stop());
    const gone = await TestClient.connect(node.wsUrl);
    sendInOneWrite(
      gone.socket,
      Array.from({ length: 500 }, (_, i) => JSON.stringify({ op: 'subscribe', channel: `COLD.${i}`, last: 10 })),
    );
    rawSocketOf(gone.socket).destroy();
    await waitFor(async () => (await nodeCounts(node.metrics)).connections === 0, 5000, 'the connection to be gone');
    await waitFor(async () => (await nodeCounts(node.metrics)).channels === 0, 10_000, 'every feed to close');
    expect(await nodeCounts(node.metrics)).toEqual({ connections: 0, subscriptions: 0, channels: 0 });
    await waitFor(async () => (await redisChannels(client, prefix)).length === 0, 10_000, 'Redis to hold no subscription');
    expect(node.broker.liveSubscriptions).toBe(0);
  });
});
