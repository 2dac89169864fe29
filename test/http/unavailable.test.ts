import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/** Words of the Redis client library that must never reach a client or an operator's 503. */
const LIBRARY_TEXT = /enableOfflineQueue|Stream isn't writeable|Connection is closed|ioredis|ECONNREFUSED|maxRetriesPerRequest/;

/** Every 503 a node gives while Redis is away, each saying in sigcast's words what is unavailable. */
describe('503 answers while Redis is away', () => {
  let redis: RedisServerHandle;
  let node: Awaited<ReturnType<typeof startTestNode>>;

  beforeAll(async () => {
    redis = await startRedisServer();
    node = await startTestNode({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300', REDIS_RETRY_BASE_MS: '20', REDIS_RETRY_MAX_MS: '100' });
  });
  afterAll(async () => {
    await node?.stop();
    await redis?.stop();
  });

  it('Redis stopped: publish (HTTP and WebSocket), history, subscribe and /readyz', async () => {
    const client = await TestClient.connect(node.wsUrl);
    await redis.stop();
    await waitFor(async () => (await fetch(`${node.baseUrl}/readyz`)).status === 503, 5000, '/readyz to fail');

    const post = await postSignals(node.baseUrl, signal('DOWN'));
    expect(post.status).toBe(503);
    expect(post.body.error).toEqual({ code: 'unavailable', message: 'storage is unavailable: Redis is not connected; nothing was stored; retry later' });

    const history = await fetch(`${node.baseUrl}/v1/channels/DOWN/history`);
    expect(history.status).toBe(503);
    expect(((await history.json()) as { error: { message: string } }).error.message).toBe('storage is unavailable: Redis is not connected; the history was not read; retry later');

    const ack = await client.request({ op: 'publish', id: 'p', signals: [signal('DOWN')] });
    expect(ack).toMatchObject({ type: 'error', code: 'unavailable', message: 'storage is unavailable: Redis is not connected; nothing was stored; retry later' });
    const subscribe = await client.request({ op: 'subscribe', id: 's', channel: 'DOWN' });
    expect(subscribe).toMatchObject({ type: 'error', code: 'unavailable', message: 'the channel history cannot be read right now; retry later' });

    const readyz = (await (await fetch(`${node.baseUrl}/readyz`)).json()) as { message: string; broker: { detail: string } };
    expect(readyz.message).toMatch(/^storage is unavailable: Redis is not connected \(command connection: /);
    for (const text of [post.body.error.message, JSON.stringify(ack), JSON.stringify(subscribe), JSON.stringify(readyz)]) expect(text).not.toMatch(LIBRARY_TEXT);
    await client.close();
    await redis.restart();
    await node.broker.ready();
  });

  it('Redis frozen: publish waits REDIS_COMMAND_TIMEOUT_MS, then says Redis did not answer', async () => {
    redis.pause();
    try {
      const post = await postSignals(node.baseUrl, signal('FROZEN'));
      expect(post.status).toBe(503);
      expect(post.headers.get('retry-after')).toBe('1');
      expect(post.body.error.message).toBe('storage is unavailable: Redis did not answer in time; nothing was stored; retry later');
    } finally {
      redis.resume();
    }
  });
});
