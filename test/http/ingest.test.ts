import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';

/** HTTP ingest against a real redis-server: answers, bad input, and Redis going away. */
describe('POST /v1/signals', () => {
  let redis: RedisServerHandle;
  let node: Awaited<ReturnType<typeof startTestNode>>;

  beforeAll(async () => {
    redis = await startRedisServer();
    node = await startTestNode({ REDIS_URL: redis.url, MAX_BATCH: '50', MAX_BODY_BYTES: '65536', REDIS_COMMAND_TIMEOUT_MS: '300' });
  });

  afterAll(async () => {
    await node?.stop();
    await redis?.stop();
  });

  const history = async (channel: string) =>
    (await (await fetch(`${node.baseUrl}/v1/channels/${channel}/history`)).json()) as { entries: Array<{ seq: number }>; headSeq: number };

  it('stores a batch and answers each entry in request order', async () => {
    const answer = await postSignals(node.baseUrl, [signal('H.A'), signal('H.B', { id: 'b-1' }), signal('H.A', { channels: ['H.A', 'H.ALL'] })]);
    expect(answer.status).toBe(200);
    expect(answer.body.entries).toEqual([
      { channel: 'H.A', seq: 1, epoch: expect.any(String), id: expect.any(String), duplicate: false },
      { channel: 'H.B', seq: 1, epoch: expect.any(String), id: 'b-1', duplicate: false },
      { channel: 'H.A', seq: 2, epoch: expect.any(String), id: expect.any(String), duplicate: false },
      { channel: 'H.ALL', seq: 1, epoch: expect.any(String), id: expect.any(String), duplicate: false },
    ]);
    const stored = await history('H.A');
    expect(stored.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(stored.headSeq).toBe(2);
  });

  it('accepts msgpack bodies and the {signals} form', async () => {
    const body = new Packr(MSGPACK_OPTIONS).pack({ signals: [signal('H.MP'), signal('H.MP')] });
    const answer = await postSignals(node.baseUrl, body, 'application/msgpack');
    expect(answer.status).toBe(200);
    expect(answer.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
  });

  it('answers a re-sent id with the original seq and stores it once', async () => {
    const first = await postSignals(node.baseUrl, signal('H.IDEM', { id: 'order-42' }));
    const again = await postSignals(node.baseUrl, [signal('H.IDEM', { id: 'order-42' }), signal('H.IDEM')]);
    expect(again.body.entries[0]).toMatchObject({ seq: first.body.entries[0].seq, duplicate: true });
    expect(again.body.entries[1]).toMatchObject({ seq: 2, duplicate: false });
    expect((await history('H.IDEM')).entries).toHaveLength(2);
  });

  it.each([
    ['malformed JSON', '{"symbol":', 'application/json', 400, 'bad_json'],
    ['invalid msgpack', new Uint8Array([0xc1]), 'application/msgpack', 400, 'bad_msgpack'],
    ['an unsupported content type', 'symbol=X', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['an empty batch', '[]', 'application/json', 400, 'empty_batch'],
    ['an oversized batch', JSON.stringify(Array.from({ length: 51 }, () => signal('H.BAD'))), 'application/json', 413, 'batch_too_large'],
    ['an oversized body', JSON.stringify([signal('H.BAD', { strategy: 'x'.repeat(40) })]).padEnd(70_000, ' '), 'application/json', 413, 'body_too_large'],
  ])('rejects %s with a JSON error and stores nothing', async (_what, body, type, status, code) => {
    const answer = await postSignals(node.baseUrl, body, type);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toEqual(expect.any(String));
    expect((await history('H.BAD')).entries).toEqual([]);
  });

  it('rejects a whole batch when one item is bad, naming the item and field', async () => {
    const answer = await postSignals(node.baseUrl, [signal('H.ATOM'), signal('H.ATOM', { strength: 7 }), signal('H.ATOM', { channels: ['no{pe}'] })]);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_signal');
    expect(answer.body.error.details).toEqual([
      { index: 1, path: 'strength', message: expect.any(String) },
      { index: 2, path: 'channels.0', message: expect.any(String) },
    ]);
    expect((await history('H.ATOM')).entries).toEqual([]);
  });

  it('answers unknown routes, wrong methods and bad history queries clearly', async () => {
    const missing = await fetch(`${node.baseUrl}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const wrongMethod = await fetch(`${node.baseUrl}/v1/signals`);
    expect(wrongMethod.status).toBe(405);
    const badChannel = await fetch(`${node.baseUrl}/v1/channels/${encodeURIComponent('a{b}')}/history`);
    expect(((await badChannel.json()) as { error: { code: string } }).error.code).toBe('invalid_channel');
    const badQuery = await fetch(`${node.baseUrl}/v1/channels/H.A/history?since=-3`);
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'bad_request', message: `since must be a decimal integer from 0 to ${Number.MAX_SAFE_INTEGER}` });
    const tooMany = await fetch(`${node.baseUrl}/v1/channels/H.A/history?last=5000`);
    expect(((await tooMany.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('answers 503 with Retry-After while Redis is down, never 2xx, and recovers', async () => {
    await redis.stop();
    const down = await postSignals(node.baseUrl, signal('H.DOWN'));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.body.error.code).toBe('unavailable');
    expect((await fetch(`${node.baseUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${node.baseUrl}/healthz`)).status).toBe(200);

    await redis.restart();
    await node.broker.ready();
    const up = await postSignals(node.baseUrl, signal('H.DOWN'));
    expect(up.status).toBe(200);
    expect((await fetch(`${node.baseUrl}/readyz`)).status).toBe(200);
  });
});
