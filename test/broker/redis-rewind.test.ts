// A history that went backwards (what a promoted replica or an AOF restart leaves when the last
// acknowledged appends never reached it), made by hand on a real redis-server: the nodes that saw
// more move the channel to a new epoch instead of letting new entries reuse seqs silently.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { RedisBroker } from '../../src/broker/redis-broker.js';
import { type ChannelKeys, channelKeys } from '../../src/broker/redis-keys.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { openTestBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';
import { recorder, signal, signals } from './broker.case.js';

let server: RedisServerHandle;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function client(): Redis {
  const redis = server.client();
  onTestFinished(() => void redis.disconnect());
  return redis;
}

/** Two nodes on one Redis (their own connections), sharing a key prefix. */
async function twoNodes(): Promise<{ a: RedisBroker; b: RedisBroker; keys: (channel: string) => ChannelKeys }> {
  const { broker: a, prefix } = openTestBroker(server.url);
  const { broker: b } = openTestBroker(server.url, { keyPrefix: prefix });
  await Promise.all([a.ready(), b.ready()]);
  return { a, b, keys: (channel) => channelKeys(prefix, channel) };
}

/** Drops the newest `count` entries the way a replica that never got them would not have them. */
async function rewind(redis: Redis, keys: ChannelKeys, count: number): Promise<void> {
  const head = Number(await redis.hget(keys.meta, 'seq'));
  await redis.lpop(keys.log, count);
  await redis.zremrangebyscore(keys.ids, head - count + 1, head);
  await redis.hset(keys.meta, 'seq', head - count);
}

describe('RedisBroker: a history that went backwards', () => {
  test('a history read shorter than what was seen moves it to a new epoch: same seqs, same ids, subscribers told', async () => {
    const { a, keys } = await twoNodes();
    const rec = recorder();
    await a.subscribe('RW', rec.listener);
    const { epoch } = await a.append('RW', signals(1, 10));
    await waitFor(() => rec.calls.length === 1, 5000, 'the announcement');
    await rewind(client(), keys('RW'), 3);

    const page = await a.history('RW', { limit: 100 });
    expect(page.epoch).not.toBe(epoch);
    expect(page.headSeq).toBe(7);
    expect(page.entries.map((e) => [e.seq, e.epoch, e.signal.id])).toEqual(signals(1, 7).map((s, i) => [i + 1, page.epoch, s.id]));
    // Its newest entry is announced in the new epoch, so every node's feed re-syncs.
    await waitFor(() => rec.calls.length >= 2, 5000, 'the fork announcement');
    expect(rec.calls[1]!.map((e) => [e.seq, e.epoch])).toEqual([[7, page.epoch]]);
    // Ids keep their seqs; the lost ones are new again; seqs continue after the retained head.
    const again = await a.append('RW', [signal('s2'), signal('s9')]);
    expect(again).toEqual({ epoch: page.epoch, created: false, results: [{ id: 's2', seq: 2, duplicate: true }, { id: 's9', seq: 8, duplicate: false }] });
    expect(await client().pttl(keys('RW').log)).toBeGreaterThan(0);
  });

  test('an append from a node that saw more forks inside the script, before any seq is reused', async () => {
    const { a, keys } = await twoNodes();
    await a.subscribe('RW2', () => {});
    const { epoch } = await a.append('RW2', signals(1, 10));
    await rewind(client(), keys('RW2'), 2);
    const next = await a.append('RW2', [signal('new1')]);
    expect(next.epoch).not.toBe(epoch);
    expect(next.results).toEqual([{ id: 'new1', seq: 9, duplicate: false }]);
    const page = await a.history('RW2', { limit: 100 });
    expect(page.entries.map((e) => e.epoch)).toEqual(Array.from({ length: 9 }, () => next.epoch));
  });

  test('a node that saw nothing reuses a seq; the node that saw it announced notices the repeat and forks', async () => {
    const { a, b, keys } = await twoNodes();
    const rec = recorder();
    await a.subscribe('RW3', rec.listener);
    const { epoch } = await a.append('RW3', signals(1, 10));
    await waitFor(() => rec.calls.length === 1, 5000, 'the announcement');
    await rewind(client(), keys('RW3'), 3);
    // b has seen nothing of the channel: its append takes seq 8 again, in the old epoch.
    const reused = await b.append('RW3', [signal('other')]);
    expect(reused).toEqual({ epoch, created: false, results: [{ id: 'other', seq: 8, duplicate: false }] });
    // a never hands the repeated seq to its listener; it forks and hands over the new epoch's head.
    await waitFor(() => rec.calls.length >= 2, 5000, 'the new epoch');
    const [forked] = rec.calls[1]!;
    expect(forked).toMatchObject({ seq: 8, signal: { id: 'other' } });
    expect(forked!.epoch).not.toBe(epoch);
    expect((await a.history('RW3', { limit: 100 })).entries.map((e) => e.signal.id)).toEqual([...signals(1, 7).map((s) => s.id), 'other']);
  });

  test('no false alarm: reads and appends racing on several connections never fork a history that is whole', async () => {
    const { a, b } = await twoNodes();
    const rec = recorder();
    await a.subscribe('RACE', rec.listener);
    const first = await b.append('RACE', signals(0, 1));
    let reading = true;
    const reads = (async () => {
      while (reading) await a.history('RACE', { limit: 5 });
    })();
    const appends: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 300; i++) appends.push((i % 2 === 0 ? a : b).append('RACE', signals(i, 1)));
    await Promise.all(appends);
    reading = false;
    await reads;
    await waitFor(() => rec.calls.flat().length === 301, 5000, 'every announcement');
    const page = await a.history('RACE', { limit: 1000 });
    expect(page.epoch).toBe(first.epoch);
    expect(page.headSeq).toBe(301);
    expect(rec.calls.flat().every((e) => e.epoch === first.epoch)).toBe(true);
  });
});
