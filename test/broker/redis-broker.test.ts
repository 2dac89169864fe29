import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BrokerUnavailableError } from '../../src/broker/broker.js';
import { type RedisBroker, createRedisBroker } from '../../src/broker/redis-broker.js';
import { redisBrokerOptionsFromConfig } from '../../src/wiring.js';
import {
  redisConnectionOptions,
  redisTargetFromUrl,
  retryDelayMs,
  toBrokerError,
} from '../../src/broker/redis-connection.js';
import { type ChannelKeys, channelKeys } from '../../src/broker/redis-keys.js';
import { loadConfig } from '../../src/config.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { openTestBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';
import { describeBrokerContract, recorder, signal, signals } from './broker.case.js';

const COMMAND_TIMEOUT_MS = 300;
let server: RedisServerHandle;
let prefixes = 0;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Opened {
  broker: RedisBroker;
  prefix: string;
  keys: (channel: string) => ChannelKeys;
}

function openBroker(
  target: RedisServerHandle,
  options: { historySize?: number; historyTtlMs?: number; commandTimeoutMs?: number; subscriberPingMs?: number } = {},
): Opened {
  const { broker, prefix } = openTestBroker(target.url, options);
  return { broker, prefix, keys: (channel) => channelKeys(prefix, channel) };
}

function openClient(target: RedisServerHandle): Redis {
  const client = target.client();
  onTestFinished(() => void client.disconnect());
  return client;
}

async function ownServer(options?: { persistence?: boolean }): Promise<RedisServerHandle> {
  const own = await startRedisServer(options);
  onTestFinished(() => own.stop());
  return own;
}

async function commandCalls(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

/** The address of the broker's connection with that CLIENT SETNAME (see redis-connection.ts). */
async function clientAddr(client: Redis, name: string): Promise<string> {
  const list = String(await client.client('LIST'));
  const line = list.split('\n').find((l) => l.includes(` name=${name} `) && l.includes(' cmd='));
  const addr = line ? /\baddr=(\S+)/.exec(line)?.[1] : undefined;
  if (!addr) throw new Error(`no client named ${name} in:\n${list}`);
  return addr;
}

async function expectUnavailableWithin(operation: Promise<unknown>, maxMs: number): Promise<void> {
  const started = Date.now();
  const error = await operation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BrokerUnavailableError);
  expect(Date.now() - started).toBeLessThan(maxMs);
}

describeBrokerContract('RedisBroker', async (options) => {
  const broker = createRedisBroker({
    url: server.url,
    keyPrefix: `contract${++prefixes}`,
    retryBaseMs: 20,
    retryMaxMs: 200,
    commandTimeoutMs: 1000,
    ...options,
  });
  await broker.ready();
  return { broker, teardown: () => broker.close() };
});

describe('RedisBroker on a real redis-server', () => {
  test('keys of a channel share its {channel} hash tag, hold what the design says and all expire', async () => {
    const { broker, prefix, keys } = openBroker(server, { historyTtlMs: 30_000 });
    const client = openClient(server);
    await broker.ready();
    const { epoch } = await broker.append('BTCUSDT', [signal('a'), signal('b')]);
    await broker.subscribe('BTCUSDT', () => {});
    const btc = keys('BTCUSDT');
    expect((await client.keys(`${prefix}:*`)).sort()).toEqual(
      [`${prefix}:{BTCUSDT}:ids`, `${prefix}:{BTCUSDT}:log`, `${prefix}:{BTCUSDT}:meta`].sort(),
    );
    expect(btc.live).toBe(`${prefix}:{BTCUSDT}:live`);
    expect(await client.pubsub('CHANNELS', `${prefix}:*`)).toEqual([btc.live]);
    expect(await client.type(btc.log)).toBe('list');
    expect(await client.type(btc.ids)).toBe('zset');
    expect(await client.hgetall(btc.meta)).toEqual({ epoch, seq: '2' });
    expect(await client.zrange(btc.ids, 0, -1, 'WITHSCORES')).toEqual(['a', '1', 'b', '2']);
    // Newest first in the list.
    expect((await client.lrange(btc.log, 0, -1)).map((json) => (JSON.parse(json) as { seq: number }).seq)).toEqual([
      2, 1,
    ]);
    for (const key of [btc.log, btc.meta, btc.ids]) {
      const pttl = await client.pttl(key);
      expect(pttl, key).toBeGreaterThan(25_000);
      expect(pttl, key).toBeLessThanOrEqual(30_000);
    }
  });

  test('one batch of 500 is exactly one EVALSHA; every write happens inside the script', async () => {
    const { broker } = openBroker(server);
    const stats = openClient(server);
    await broker.ready();
    // ioredis sends the script source (EVAL) the first time on a connection, EVALSHA after that.
    await broker.append('BTCUSDT', [signal('warm-up')]);
    const brokerAddr = await clientAddr(stats, 'sigcast-command');
    const monitor = await server.client().monitor();
    onTestFinished(() => void monitor.disconnect());
    const seen: Array<{ source: string; command: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      seen.push({ source, command: String(args[0]).toLowerCase() });
    });
    const evalshaBefore = await commandCalls(stats, 'evalsha');
    const evalBefore = await commandCalls(stats, 'eval');

    const { results } = await broker.append('BTCUSDT', signals(1, 500));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => 2 + i));

    expect((await commandCalls(stats, 'evalsha')) - evalshaBefore).toBe(1);
    expect((await commandCalls(stats, 'eval')) - evalBefore).toBe(0);
    await stats.echo('monitor-marker');
    await waitFor(() => seen.some((s) => s.command === 'echo'), 5000, 'monitor to catch up');
    expect(seen.filter((s) => s.source === brokerAddr).map((s) => s.command)).toEqual(['evalsha']);
    const fromScript = seen.filter((s) => s.source === 'lua').map((s) => s.command);
    // Per batch, not per signal: one ZMSCORE for the ids, one LPUSH, one ZADD, one PUBLISH.
    expect(fromScript.filter((c) => c === 'zmscore')).toHaveLength(1);
    expect(fromScript.filter((c) => c === 'lpush')).toHaveLength(1);
    expect(fromScript.filter((c) => c === 'zadd')).toHaveLength(1);
    expect(fromScript.filter((c) => c === 'publish')).toHaveLength(1);
    expect(fromScript.length).toBeLessThanOrEqual(12);
  });

  test('the appends of one turn to 20 channels are one EVALSHA: each channel its own seqs and announcement, two appends to one channel in order', async () => {
    const { broker } = openBroker(server);
    const stats = openClient(server);
    await broker.ready();
    await broker.append('TURN-0', [signal('warm-up')]);
    const channels = Array.from({ length: 20 }, (_, i) => `TURN-${i}`);
    const recs = channels.map(() => recorder());
    await Promise.all(channels.map((channel, i) => broker.subscribe(channel, recs[i]!.listener)));
    const before = await commandCalls(stats, 'evalsha');
    const results = await Promise.all([
      ...channels.map((channel, i) => broker.append(channel, signals(0, 2, `t${i}-`))),
      broker.append('TURN-3', signals(0, 1, 'again-')),
      broker.append('TURN-3', [signal('t3-1')]),
    ]);
    expect((await commandCalls(stats, 'evalsha')) - before).toBe(1);
    expect(results[0]!.results.map((r) => r.seq)).toEqual([2, 3]);
    for (const i of [1, 2, 4, 19]) expect(results[i]!.results.map((r) => r.seq)).toEqual([1, 2]);
    // After TURN-3's own first part in the same call: seq 3, and a repeat it recognizes.
    expect(results[20]!.results).toEqual([{ id: 'again-0', seq: 3, duplicate: false }]);
    expect(results[21]!.results).toEqual([{ id: 't3-1', seq: 2, duplicate: true }]);
    await waitFor(() => recs.every((rec) => rec.calls.length >= 1), 5000, 'every announcement');
    expect(recs[3]!.seqs()).toEqual([[1, 2], [3]]);
    expect(recs[7]!.calls[0]!.map((entry) => entry.signal.id)).toEqual(['t7-0', 't7-1']);
    expect((await broker.history('TURN-3', { limit: 10 })).entries.map((entry) => entry.signal.id)).toEqual(['t3-0', 't3-1', 'again-0']);
  });

  test('a batch larger than the script chunk keeps order and recognizes repeats across chunks', async () => {
    const { broker } = openBroker(server, { historySize: 5000 });
    await broker.ready();
    const rec = recorder();
    await broker.subscribe('CHUNKS', rec.listener);
    await broker.append('CHUNKS', signals(1, 10, 'old'));
    // 2,500 new ids, then a repeat of one of them (third chunk) and of an older one.
    const batch = [...signals(1, 2500, 'new'), signal('new7'), signal('old3')];
    const { results } = await broker.append('CHUNKS', batch);
    expect(results.slice(0, 2500).map((r) => r.seq)).toEqual(Array.from({ length: 2500 }, (_, i) => 11 + i));
    expect(results.slice(0, 2500).every((r) => !r.duplicate)).toBe(true);
    expect(results[2500]).toEqual({ id: 'new7', seq: 17, duplicate: true });
    expect(results[2501]).toEqual({ id: 'old3', seq: 3, duplicate: true });
    const page = await broker.history('CHUNKS', { afterSeq: 10, limit: 5000 });
    expect(page.entries.map((e) => e.signal.id)).toEqual(batch.slice(0, 2500).map((s) => s.id));
    await waitFor(() => rec.calls.length === 2, 5000, 'two announcements');
    expect(rec.calls[1]!.map((e) => e.seq)).toEqual(Array.from({ length: 2500 }, (_, i) => 11 + i));
  });

  test('a batch of 1000 is stored in one call and announced as one message', async () => {
    const { broker } = openBroker(server);
    const stats = openClient(server);
    await broker.ready();
    const rec = recorder();
    await broker.subscribe('BTCUSDT', rec.listener);
    const before = (await commandCalls(stats, 'evalsha')) + (await commandCalls(stats, 'eval'));
    const { results } = await broker.append('BTCUSDT', signals(1, 1000));
    const after = (await commandCalls(stats, 'evalsha')) + (await commandCalls(stats, 'eval'));
    expect(after - before).toBe(1);
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => 1 + i));
    await waitFor(() => rec.calls.length === 1, 5000, 'the announcement');
    expect(rec.calls[0]).toHaveLength(1000);
    expect((await broker.history('BTCUSDT', { limit: 1000 })).entries).toEqual(rec.calls[0]);
  });

  test('subscribe resolves once Redis has the subscription; unsubscribe removes it', async () => {
    const { broker, keys } = openBroker(server);
    const client = openClient(server);
    await broker.ready();
    const live = keys('ETHUSDT').live;
    await broker.subscribe('ETHUSDT', () => {});
    expect(await client.pubsub('NUMSUB', live)).toEqual([live, 1]);
    await broker.unsubscribe('ETHUSDT');
    expect(await client.pubsub('NUMSUB', live)).toEqual([live, 0]);
  });

  test('a lost meta key (e.g. evicted) starts a clean new epoch: no stale entries or ids survive', async () => {
    const { broker, keys } = openBroker(server);
    const client = openClient(server);
    await broker.ready();
    const before = await broker.append('BTCUSDT', signals(1, 3));
    await client.del(keys('BTCUSDT').meta);
    const after = await broker.append('BTCUSDT', [signal('s1')]);
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.results).toEqual([{ id: 's1', seq: 1, duplicate: false }]);
    const page = await broker.history('BTCUSDT', { limit: 10 });
    expect(page.entries.map((e) => [e.seq, e.epoch])).toEqual([[1, after.epoch]]);
  });

  test('a failing script is a plain Error, not BrokerUnavailableError', async () => {
    const { broker, keys } = openBroker(server);
    const client = openClient(server);
    await broker.ready();
    await client.set(keys('BTCUSDT').meta, 'not a hash');
    const error = await broker.append('BTCUSDT', [signal('a')]).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BrokerUnavailableError);
    expect(String(error)).toMatch(/WRONGTYPE/);
  });

  test('Redis stopped: append, history and subscribe fail fast with BrokerUnavailableError; it recovers after restart', async () => {
    const own = await ownServer();
    const { broker } = openBroker(own, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await broker.ready();
    const resyncs: number[] = [];
    broker.onResync(() => resyncs.push(Date.now()));
    const first = await broker.append('BTCUSDT', signals(1, 3));

    await own.stop();
    await expectUnavailableWithin(broker.append('BTCUSDT', signals(4, 1)), COMMAND_TIMEOUT_MS + 500);
    await expectUnavailableWithin(broker.history('BTCUSDT', { limit: 10 }), COMMAND_TIMEOUT_MS + 500);
    await expectUnavailableWithin(broker.subscribe('BTCUSDT', () => {}), COMMAND_TIMEOUT_MS + 500);
    await waitFor(async () => !(await broker.health()).ok, 2000, 'health to report the outage');

    await own.restart();
    await waitFor(async () => (await broker.health()).ok, 5000, 'health after restart');
    // Restarted without persistence: the history is gone, a new epoch starts at seq 1.
    expect((await broker.history('BTCUSDT', { limit: 10 })).epoch).toBe('');
    const next = await broker.append('BTCUSDT', signals(4, 1));
    expect(next.results[0]?.seq).toBe(1);
    expect(next.epoch).not.toBe(first.epoch);
    await waitFor(() => resyncs.length > 0, 2000, 'resync');
  });

  test('Redis hung (SIGSTOP): commands time out after commandTimeoutMs with BrokerUnavailableError', async () => {
    const own = await ownServer();
    const { broker } = openBroker(own, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await broker.ready();
    await broker.append('BTCUSDT', signals(1, 1));
    own.pause();
    try {
      const started = Date.now();
      await expectUnavailableWithin(broker.append('BTCUSDT', signals(2, 1)), COMMAND_TIMEOUT_MS + 700);
      expect(Date.now() - started).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
      await expectUnavailableWithin(broker.history('BTCUSDT', { limit: 1 }), COMMAND_TIMEOUT_MS + 700);
      expect((await broker.health()).ok).toBe(false);
    } finally {
      own.resume();
    }
    // The timed-out append may still have run once Redis woke up; the id makes a retry safe.
    const retry = await broker.append('BTCUSDT', signals(2, 1));
    expect(retry.results[0]?.seq).toBe(2);
    expect((await broker.history('BTCUSDT', { limit: 10 })).headSeq).toBe(2);
  });

  test('a subscriber connection that stops answering is detected by its ping and re-established', async () => {
    const own = await ownServer();
    const { broker } = openBroker(own, { commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriberPingMs: 100 });
    await broker.ready();
    const rec = recorder();
    await broker.subscribe('BTCUSDT', rec.listener);
    let resyncs = 0;
    broker.onResync(() => (resyncs += 1));
    own.pause();
    try {
      // The TCP connections stay open; only the ping notices.
      await waitFor(async () => /subscriptions not in place/.test((await broker.health()).detail ?? ''), 5000, 'detection');
    } finally {
      own.resume();
    }
    await waitFor(() => resyncs === 1, 10_000, 'resync after the server answers again');
    await broker.append('BTCUSDT', signals(1, 1));
    await waitFor(() => rec.calls.length === 1, 5000, 'delivery after resync');
  });

  test('a killed subscriber connection: onResync fires after re-subscription, then live delivery works', async () => {
    const { broker, keys } = openBroker(server);
    const client = openClient(server);
    await broker.ready();
    const live = keys('BTCUSDT').live;
    const rec = recorder();
    await broker.subscribe('BTCUSDT', rec.listener);
    const numsubAtResync: Array<Promise<unknown>> = [];
    const appendedAtResync: Array<Promise<unknown>> = [];
    broker.onResync(() => {
      numsubAtResync.push(client.pubsub('NUMSUB', live));
      // Appended the moment resync is reported: it must be announced to us.
      appendedAtResync.push(broker.append('BTCUSDT', signals(2, 1)));
    });
    broker.onResync(() => {
      throw new Error('a faulty resync listener must not stop the others');
    });
    let second = 0;
    broker.onResync(() => (second += 1));
    await broker.append('BTCUSDT', signals(1, 1));
    await waitFor(() => rec.calls.length === 1, 5000, 'first delivery');
    expect(numsubAtResync).toHaveLength(0); // the first connect is not a resync

    expect(await client.client('KILL', 'TYPE', 'pubsub')).toBe(1);
    await waitFor(() => numsubAtResync.length === 1, 5000, 'resync');
    // Issued from inside the resync callback: the subscription was already back in place.
    expect(await numsubAtResync[0]).toEqual([live, 1]);
    expect(second).toBe(1);
    await appendedAtResync[0];
    await broker.append('BTCUSDT', signals(3, 2));
    await waitFor(() => rec.calls.length === 3, 5000, 'delivery after resync');
    expect(rec.seqs()).toEqual([[1], [2], [3, 4]]);
    expect(numsubAtResync).toHaveLength(1);
  });

  test('a dropped command connection also reports a resync once it is back', async () => {
    const { broker } = openBroker(server);
    const client = openClient(server);
    await broker.ready();
    let resyncs = 0;
    broker.onResync(() => (resyncs += 1));
    await client.client('KILL', 'ADDR', await clientAddr(client, 'sigcast-command'));
    await waitFor(() => resyncs === 1, 5000, 'resync');
    expect((await broker.append('BTCUSDT', signals(1, 1))).results[0]?.seq).toBe(1);
  });

  test('started while Redis is down: 503s until it is up, then works (no resync for a first connect)', async () => {
    const own = await ownServer();
    await own.stop();
    const { broker } = openBroker(own, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    let resyncs = 0;
    broker.onResync(() => (resyncs += 1));
    await expectUnavailableWithin(broker.append('BTCUSDT', signals(1, 1)), COMMAND_TIMEOUT_MS + 500);
    expect((await broker.health()).ok).toBe(false);
    await own.restart();
    await broker.ready();
    expect((await broker.append('BTCUSDT', signals(1, 1))).results[0]?.seq).toBe(1);
    expect(resyncs).toBe(0);
  });

  test('with persistence the epoch survives a kill and restart; seq continues', async () => {
    const own = await ownServer({ persistence: true });
    const { broker } = openBroker(own);
    await broker.ready();
    let resyncs = 0;
    broker.onResync(() => (resyncs += 1));
    const before = await broker.append('BTCUSDT', signals(1, 3));
    await own.kill(); // appendfsync always: acknowledged writes are on disk even after SIGKILL
    await own.restart();
    await waitFor(() => resyncs > 0, 5000, 'resync after restart');
    const page = await broker.history('BTCUSDT', { limit: 10 });
    expect(page.epoch).toBe(before.epoch);
    expect(page.headSeq).toBe(3);
    expect(page.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    const after = await broker.append('BTCUSDT', signals(1, 4));
    expect(after.epoch).toBe(before.epoch);
    expect(after.results.map((r) => [r.seq, r.duplicate])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
  });

  test('without persistence a kill and restart loses the history: new epoch, seq restarts at 1', async () => {
    const own = await ownServer();
    const { broker } = openBroker(own);
    await broker.ready();
    // Reported once both connections are back: history can be read from inside the listener.
    const readsAtResync: Array<Promise<unknown>> = [];
    broker.onResync(() => readsAtResync.push(broker.history('BTCUSDT', { limit: 10 })));
    const before = await broker.append('BTCUSDT', signals(1, 3));
    await own.kill();
    await own.restart();
    await waitFor(() => readsAtResync.length > 0, 5000, 'resync after restart');
    expect(await readsAtResync[0]).toEqual({ epoch: '', headSeq: 0, entries: [] });
    const after = await broker.append('BTCUSDT', signals(1, 1));
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.results).toEqual([{ id: 's1', seq: 1, duplicate: false }]);
    // Both connections dropped at once: one resync, not two.
    expect(readsAtResync).toHaveLength(1);
  });
});

describe('Redis connection options', () => {
  test('the URL gives host, port, username, password, db and TLS', () => {
    expect(redisTargetFromUrl('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(redisTargetFromUrl('redis://cache')).toEqual({ host: 'cache', port: 6379 });
    expect(redisTargetFromUrl('rediss://bot:p%40ss@redis.example.com:6390/3')).toEqual({
      host: 'redis.example.com',
      port: 6390,
      username: 'bot',
      password: 'p@ss',
      db: 3,
      tls: {},
    });
    expect(redisTargetFromUrl('redis://:secret@[::1]:7000')).toEqual({ host: '::1', port: 7000, password: 'secret' });
    expect(() => redisTargetFromUrl('redis://h/notadb')).toThrow(/database number/);
    expect(() => redisTargetFromUrl('http://h')).toThrow(/redis:\/\//);
  });

  test('reconnect delays double from the base up to the cap, forever', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 100, 10_000].map((attempt) => retryDelayMs(attempt, 50, 2000));
    expect(delays).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    const options = redisConnectionOptions(
      { url: 'redis://h:1', retryBaseMs: 50, retryMaxMs: 2000, commandTimeoutMs: 1234 },
      'name',
    );
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      commandTimeout: 1234,
      maxRetriesPerRequest: 0,
      connectionName: 'name',
    });
    expect(options.retryStrategy?.(1_000_000)).toBe(2000);
  });

  test('options come from the validated config', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://r:6379/1',
      REDIS_KEY_PREFIX: 'px',
      HISTORY_SIZE: '500',
      HISTORY_TTL_SECONDS: '60',
      REDIS_RETRY_BASE_MS: '10',
      REDIS_RETRY_MAX_MS: '1000',
      REDIS_COMMAND_TIMEOUT_MS: '700',
    });
    expect(redisBrokerOptionsFromConfig(config)).toEqual({
      url: 'redis://r:6379/1',
      keyPrefix: 'px',
      historySize: 500,
      historyTtlMs: 60_000,
      retryBaseMs: 10,
      retryMaxMs: 1000,
      commandTimeoutMs: 700,
      ackReplicas: 0,
      ackTimeoutMs: 1000,
    });
    expect(() => redisBrokerOptionsFromConfig(loadConfig({}))).toThrow(/REDIS_URL/);
  });

  test('connection loss, timeouts and transient replies map to BrokerUnavailableError; other replies do not', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    expect(toBrokerError(new Error('Command timed out'), 'append')).toBeInstanceOf(BrokerUnavailableError);
    expect(toBrokerError(new Error("Stream isn't writeable"), 'append')).toBeInstanceOf(BrokerUnavailableError);
    expect(toBrokerError(reply('LOADING Redis is loading the dataset in memory'), 'x')).toBeInstanceOf(
      BrokerUnavailableError,
    );
    expect(toBrokerError(reply('READONLY You cannot write against a read only replica.'), 'x')).toBeInstanceOf(
      BrokerUnavailableError,
    );
    const scriptBug = reply('ERR user_script:1: attempt to compare nil with number');
    expect(toBrokerError(scriptBug, 'x')).toBe(scriptBug);
  });

  test("503 messages say what is unavailable in sigcast's words; ioredis's text stays in the cause", () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const cases: Array<[Error, string, string]> = [
      [offline, 'append', 'storage is unavailable: Redis is not connected; nothing was stored; retry later'],
      [new Error('Connection is closed.'), 'history', 'storage is unavailable: Redis is not connected; the history was not read; retry later'],
      [new Error('Command timed out'), 'append', 'storage is unavailable: Redis did not answer in time; nothing was stored; retry later'],
      [reply('LOADING Redis is loading the dataset in memory'), 'subscribe', 'storage is unavailable: Redis is still loading its data; the live subscription was not made; retry later'],
      [reply('OOM command not allowed when used memory > maxmemory'), 'append', 'storage is unavailable: Redis is out of memory; nothing was stored; retry later'],
    ];
    for (const [error, operation, message] of cases) {
      const mapped = toBrokerError(error, operation);
      expect(mapped.message).toBe(message);
      expect(mapped.cause).toBe(error);
    }
  });
});
