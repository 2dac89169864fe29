import { afterEach, describe, expect, it } from 'vitest';
import { createPublisher, type PublishResult } from '../../clients/publisher.js';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { TestClient } from '../support/sigcast.js';
import { startSigcastProcess, type SigcastProcess } from '../support/sigcast-process.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * `sigcast serve` stopped the way `timeout`, systemd, Docker and an impatient Ctrl-C stop it: a
 * SIGTERM, then another one. The shutdown runs to its end anyway: clients get 1001, resume on
 * another node without loss, and the process exits 0 with its last log line written.
 */
const CHANNEL = 'SHUT';
type EntryFrame = Extract<ServerFrame, { type: 'entry' }>;

describe('shutdown on signals', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function redisServer(): Promise<RedisServerHandle> {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    return redis;
  }

  async function serve(env: Record<string, string>): Promise<SigcastProcess> {
    const child = await startSigcastProcess(env);
    cleanups.push(() => child.stop('SIGKILL'));
    return child;
  }

  async function client(wsUrl: string, encoding: 'json' | 'msgpack'): Promise<TestClient> {
    const connected = await TestClient.connect(wsUrl, { encoding });
    cleanups.push(() => connected.close());
    return connected;
  }

  function logLines(child: SigcastProcess): Array<{ msg?: string }> {
    return child
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string });
  }

  it.each(['uws', 'ws'])('%s: SIGTERM, then another SIGTERM 100 ms later: clients get 1001, resume on a second node with nothing lost, the process exits 0', async (transport) => {
    const redis = await redisServer();
    const env = { REDIS_URL: redis.url, SHUTDOWN_GRACE_SECONDS: '5', TRANSPORT: transport };
    const [a, b] = [await serve(env), await serve(env)];
    const onA = await Promise.all((['json', 'msgpack', 'json'] as const).map((encoding) => client(a.wsUrl, encoding)));
    for (const subscriber of onA) await subscriber.subscribe(CHANNEL);

    // Each subscriber resumes on node B from the last entry it got, as soon as A closes it.
    const resumed = onA.map(async (old) => {
      const { code } = await old.waitForClose(20_000);
      const last = old.entries(CHANNEL).at(-1);
      const fresh = await client(b.wsUrl, old.encoding);
      await fresh.subscribe(CHANNEL, last ? { since: last.seq, epoch: last.epoch } : {});
      return { code, before: old.entries(CHANNEL), fresh };
    });

    // A publish held in flight on A (Redis frozen for 300 ms) keeps A's shutdown busy: the
    // second signal lands in the middle of it, and the publish is still answered and delivered.
    let secondLanded = false;
    const stopA = async () => {
      redis.pause();
      const held = fetch(`${a.baseUrl}/v1/signals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: CHANNEL, side: 'SELL', strength: 1, id: 'held' }) });
      await waitFor(async () => /sigcast_ingest_in_flight 1/.test(await (await fetch(`${a.baseUrl}/metrics`)).text()), 5000, 'the publish in flight on A');
      a.child.kill('SIGTERM');
      await delay(100);
      secondLanded = a.child.exitCode === null;
      a.child.kill('SIGTERM');
      await delay(200);
      redis.resume();
      return (await held.then((response) => response.json())) as { entries: Array<{ seq: number; id: string }> };
    };
    let stopping: ReturnType<typeof stopA> | undefined;
    const total = 300;
    const publisher = createPublisher({ url: b.baseUrl, maxBatch: 10, lingerMs: 1 });
    cleanups.push(() => publisher.close());
    const pending: Array<Promise<PublishResult>> = [];
    for (let i = 0; i < total; i += 1) {
      pending.push(publisher.publish({ symbol: CHANNEL, side: 'BUY', strength: 0.5, id: `shut-${i}` }));
      if (i === 100) stopping = stopA();
      await delay(3);
    }
    const results = await Promise.all(pending);
    const held = (await stopping!).entries[0]!;
    expect(held.id).toBe('held');
    const stored = total + 1;
    expect([...results.map((result) => result.seq), held.seq].sort((x, y) => x - y)).toEqual(Array.from({ length: stored }, (_, i) => i + 1));

    expect(await a.exited).toBe(0);
    expect(secondLanded).toBe(true);
    for (const { code, before, fresh } of await Promise.all(resumed)) {
      expect(code).toBe(1001);
      await waitFor(() => before.length + fresh.entries(CHANNEL).length >= stored, 10_000, 'the rest of the stream on node B');
      await delay(100);
      const all: EntryFrame[] = [...before, ...fresh.entries(CHANNEL)];
      expect(all.map((entry) => entry.seq)).toEqual(Array.from({ length: stored }, (_, i) => i + 1));
      expect(all.find((entry) => entry.seq === held.seq)?.signal.id).toBe('held');
      expect(fresh.ofType('reset')).toEqual([]);
    }

    // The log says what happened, in order, to the last line.
    const messages = logLines(a).map((line) => line.msg ?? '');
    const at = (text: string) => messages.findIndex((msg) => msg.startsWith(text));
    expect(at('signal received: shutting down')).toBeGreaterThan(-1);
    expect(at('second signal during shutdown: ignored')).toBeGreaterThan(at('signal received: shutting down'));
    expect(at('closing WebSockets with 1001')).toBeGreaterThan(at('signal received: shutting down'));
    expect(messages.at(-1)).toBe('stopped');
  });

  it('a third signal forces the exit at once, and says so', async () => {
    const redis = await redisServer();
    const node = await serve({ REDIS_URL: redis.url, SHUTDOWN_GRACE_SECONDS: '60', REDIS_COMMAND_TIMEOUT_MS: '60000' });
    // A publish held in flight by a frozen Redis keeps the shutdown waiting.
    redis.pause();
    cleanups.push(async () => redis.resume());
    const held = fetch(`${node.baseUrl}/v1/signals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'HELD', side: 'BUY', strength: 1 }) }).catch(() => undefined);
    await waitFor(async () => /sigcast_ingest_in_flight 1/.test(await (await fetch(`${node.baseUrl}/metrics`)).text()), 5000, 'the publish in flight');
    for (const gap of [0, 100, 100]) {
      await delay(gap);
      node.child.kill('SIGTERM');
    }
    expect(await node.exited).toBe(1);
    const messages = logLines(node).map((line) => line.msg ?? '');
    expect(messages).toContain('second signal during shutdown: ignored while the shutdown finishes (a third forces exit)');
    expect(messages.at(-1)).toBe('third signal during shutdown: forcing exit now');
    await held;
  });

  it('ends within SHUTDOWN_GRACE_SECONDS with exit status 0 even while Redis holds a publish', async () => {
    const redis = await redisServer();
    const node = await serve({ REDIS_URL: redis.url, SHUTDOWN_GRACE_SECONDS: '1', REDIS_COMMAND_TIMEOUT_MS: '60000' });
    const subscriber = await client(node.wsUrl, 'json');
    redis.pause();
    cleanups.push(async () => redis.resume());
    const held = fetch(`${node.baseUrl}/v1/signals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'HELD', side: 'BUY', strength: 1 }) }).catch(() => undefined);
    await waitFor(async () => /sigcast_ingest_in_flight 1/.test(await (await fetch(`${node.baseUrl}/metrics`)).text()), 5000, 'the publish in flight');
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    expect((await subscriber.waitForClose()).code).toBe(1001);
    const messages = logLines(node).map((line) => line.msg ?? '');
    expect(messages.some((msg) => msg.startsWith('shutdown grace ran out with ingest still waiting for Redis'))).toBe(true);
    expect(messages.at(-1)).toBe('stopped');
    await held;
  });
});
