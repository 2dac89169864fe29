// Finding 5 of issue 9: what one publisher can make Redis hold is capped (channels per signal,
// signal size, new channels per minute), and a node serves at most MAX_CHANNELS channels. Each
// refusal is whole: nothing of the request is stored.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';

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

async function node(env: Record<string, string>) {
  const prefix = `caps${++prefixes}`;
  const started = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ...env });
  onTestFinished(() => started.stop());
  return { node: started, prefix, keys: async () => (await client.keys(`${prefix}:*`)).length };
}

const channels = (from: number, count: number) => Array.from({ length: count }, (_, i) => `N.${from + i}`);

describe('fan-out caps', () => {
  it('MAX_CHANNELS_PER_SIGNAL: a signal to more channels is invalid, and nothing of its batch is stored', async () => {
    const { node: n, keys } = await node({ MAX_CHANNELS_PER_SIGNAL: '4' });
    const answer = await postSignals(n.baseUrl, [signal('OK'), signal('WIDE', { channels: channels(0, 5) })]);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_signal', details: [{ index: 1, path: 'channels', message: 'at most 4 channels per signal' }] });
    expect(await keys()).toBe(0);
    expect((await postSignals(n.baseUrl, signal('WIDE', { channels: channels(0, 4) }))).status).toBe(200);
  });

  it('MAX_SIGNAL_BYTES: a signal larger as stored JSON is invalid', async () => {
    const { node: n, keys } = await node({ MAX_SIGNAL_BYTES: '1024' });
    const answer = await postSignals(n.baseUrl, signal('BIG', { meta: { a: 'x'.repeat(256), b: 'x'.repeat(256), c: 'x'.repeat(256), d: 'x'.repeat(256) } }));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_signal');
    expect(answer.body.error.details[0].message).toMatch(/^the signal is \d+ bytes as JSON; at most 1024$/);
    expect(await keys()).toBe(0);
  });

  it('NEW_CHANNELS_PER_MINUTE: a publish that would create too many is refused whole (429, Retry-After); existing channels stay open', async () => {
    const { node: n, keys } = await node({ NEW_CHANNELS_PER_MINUTE: '50' });
    const sixty = channels(0, 60).map((channel) => signal(channel));
    const refused = await postSignals(n.baseUrl, sixty);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_new_channels');
    expect(refused.body.error.message).toContain('at most 50 per minute');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await keys()).toBe(0);

    expect((await postSignals(n.baseUrl, channels(0, 40).map((channel) => signal(channel)))).status).toBe(200);
    // 10 left: 20 new ones are refused, and the answer says when to retry.
    const later = await postSignals(n.baseUrl, channels(40, 20).map((channel) => signal(channel)));
    expect(later.status).toBe(429);
    expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(10);
    expect(await keys()).toBe(40 * 3);
    // Publishing to the 40 that exist is not creating anything: accepted, even with no tokens left.
    expect((await postSignals(n.baseUrl, channels(40, 10).map((channel) => signal(channel)))).status).toBe(200);
    expect((await postSignals(n.baseUrl, channels(0, 50).map((channel) => signal(channel)))).status).toBe(200);
    // A signal to several channels counts each new one; the same answer over WebSocket.
    const ws = await TestClient.connect(n.wsUrl);
    onTestFinished(() => ws.close());
    const answer = await ws.request({ op: 'publish', id: 1, signals: [signal('X', { channels: channels(100, 3) })] });
    expect(answer).toMatchObject({ type: 'error', id: 1, code: 'too_many_new_channels' });
    expect(await keys()).toBe(50 * 3);
  });

  it('MAX_CHANNELS: a node serving that many channels refuses a subscribe to another, until one is released', async () => {
    const { node: n } = await node({ MAX_CHANNELS: '3' });
    const ws = await TestClient.connect(n.wsUrl);
    onTestFinished(() => ws.close());
    for (const channel of ['A', 'B', 'C']) await ws.subscribe(channel);
    // Another connection may join a served channel.
    const other = await TestClient.connect(n.wsUrl);
    onTestFinished(() => other.close());
    await other.subscribe('A');
    expect(other.ofType('live')).toHaveLength(1);
    const refused = await ws.request({ op: 'subscribe', id: 'd', channel: 'D' });
    expect(refused).toMatchObject({ type: 'error', id: 'd', code: 'too_many_channels', channel: 'D' });
    expect(await ws.request({ op: 'unsubscribe', id: 'u', channel: 'C' })).toMatchObject({ type: 'unsubscribed' });
    expect(await ws.request({ op: 'subscribe', id: 'd2', channel: 'D' })).toMatchObject({ type: 'subscribed', channel: 'D' });
  });
});
