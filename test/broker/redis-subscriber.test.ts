// The broker's Redis subscriptions against what Redis itself holds (PUBSUB NUMSUB, CLIENT LIST):
// whatever order subscribes, unsubscribes, timeouts and reconnects happen in, Redis ends up with
// exactly the channels that have a listener, and `liveSubscriptions` says how many.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BrokerUnavailableError } from '../../src/broker/broker.js';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { openTestBroker } from '../support/test-broker.js';
import { delay, waitFor } from '../support/wait.js';
import { signal } from './broker.case.js';

const COMMAND_TIMEOUT_MS = 300;
let server: RedisServerHandle;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function client(target: RedisServerHandle): Redis {
  const redis = target.client();
  onTestFinished(() => void redis.disconnect());
  return redis;
}

/** Pub/sub channels of this prefix that Redis holds for anyone. */
async function heldChannels(redis: Redis, prefix: string): Promise<string[]> {
  return ((await redis.pubsub('CHANNELS', `${prefix}:*`)) as string[]).sort();
}

/** The `sub=` count of the broker's subscriber connection, from CLIENT LIST. */
async function subscriberConnectionSubs(redis: Redis): Promise<number> {
  const list = String(await redis.client('LIST'));
  const line = list.split('\n').find((l) => l.includes(' name=sigcast-subscriber '));
  if (!line) throw new Error(`no sigcast-subscriber connection in:\n${list}`);
  return Number(/\bsub=(\d+)/.exec(line)?.[1]);
}

async function ownServer(): Promise<RedisServerHandle> {
  const own = await startRedisServer();
  onTestFinished(async () => {
    own.resume();
    await own.stop();
  });
  return own;
}

describe('RedisSubscriber reconciles with what Redis holds', () => {
  test('a SUBSCRIBE that timed out still runs in Redis; the unsubscribe that follows removes it (finding 1)', async () => {
    const own = await ownServer();
    const { broker, prefix } = openTestBroker(own.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriberPingMs: 60_000 });
    const redis = client(own);
    await broker.ready();
    await redis.ping();

    own.pause();
    const failed = await broker.subscribe('SLOW', () => {}).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(BrokerUnavailableError);
    own.resume();
    // Redis now runs the SUBSCRIBE it had queued; the caller was told it failed and gives up.
    await broker.unsubscribe('SLOW');
    await waitFor(async () => (await heldChannels(redis, prefix)).length === 0, 5000, 'Redis to drop the timed-out subscription');
    expect(await subscriberConnectionSubs(redis)).toBe(0);
    expect(broker.liveSubscriptions).toBe(0);
  });

  test('a timed-out SUBSCRIBE with no unsubscribe is not left behind either', async () => {
    const own = await ownServer();
    const { broker, prefix } = openTestBroker(own.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriberPingMs: 60_000 });
    const redis = client(own);
    await broker.ready();
    own.pause();
    await expect(broker.subscribe('ORPHAN', () => {})).rejects.toBeInstanceOf(BrokerUnavailableError);
    own.resume();
    await waitFor(async () => (await heldChannels(redis, prefix)).length === 0, 5000, 'Redis to drop the orphaned subscription');
    expect(broker.liveSubscriptions).toBe(0);
  });

  test('a channel subscribed again after its SUBSCRIBE timed out is adopted: one subscription, live delivery works', async () => {
    const own = await ownServer();
    const { broker, prefix } = openTestBroker(own.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriberPingMs: 60_000 });
    const redis = client(own);
    await broker.ready();
    own.pause();
    await expect(broker.subscribe('AGAIN', () => {})).rejects.toBeInstanceOf(BrokerUnavailableError);
    own.resume();
    const received: number[] = [];
    await broker.subscribe('AGAIN', (entries) => received.push(...entries.map((entry) => entry.seq)));
    await broker.append('AGAIN', [signal('a1')]);
    await waitFor(() => received.length === 1, 5000, 'the live entry');
    expect(await heldChannels(redis, prefix)).toEqual([channelKeys(prefix, 'AGAIN').live]);
    expect(broker.liveSubscriptions).toBe(1);
    await broker.unsubscribe('AGAIN');
    await waitFor(async () => (await heldChannels(redis, prefix)).length === 0, 5000, 'the unsubscribe');
  });

  test('random interleavings of subscribe, unsubscribe, stalls and a reconnect end with Redis holding exactly the wanted channels', async () => {
    const own = await ownServer();
    const { broker, prefix } = openTestBroker(own.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriberPingMs: 60_000 });
    const redis = client(own);
    await broker.ready();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const wanted = new Set<string>();
    const calls: Array<Promise<unknown>> = [];
    for (let round = 0; round < 6; round++) {
      const stall = round % 2 === 1;
      if (stall) own.pause();
      // Mid-run the subscriber connection is killed: Redis forgets it, the broker re-subscribes.
      if (round === 4) await redis.client('KILL', 'SKIPME', 'yes', 'TYPE', 'pubsub');
      for (let i = 0; i < 60; i++) {
        const channel = `C${random(12)}`;
        if (random(2) === 0) {
          wanted.add(channel);
          calls.push(
            broker.subscribe(channel, () => {}).then(
              () => undefined,
              // A failed subscribe is not wanted: the caller unsubscribes (what the hub does).
              () => {
                wanted.delete(channel);
                return broker.unsubscribe(channel);
              },
            ),
          );
        } else {
          wanted.delete(channel);
          calls.push(broker.unsubscribe(channel));
        }
        if (random(5) === 0) await delay(random(30));
      }
      if (stall) {
        await delay(COMMAND_TIMEOUT_MS + 50);
        own.resume();
      }
      await Promise.allSettled(calls);
    }
    // The failure handlers above ran after the loop's own bookkeeping: settle again.
    await Promise.allSettled(calls);
    const expected = [...wanted].map((channel) => channelKeys(prefix, channel).live).sort();
    await waitFor(async () => JSON.stringify(await heldChannels(redis, prefix)) === JSON.stringify(expected), 5000, 'Redis to converge');
    expect(broker.liveSubscriptions).toBe(expected.length);
    expect(await subscriberConnectionSubs(redis)).toBe(expected.length);
  });
});
