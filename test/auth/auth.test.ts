import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ServerFrameSchema, type ServerFrame } from '../../src/protocol/frames.js';
import { makeAuthKeys, signToken, authEnv, type AuthKeys } from '../support/auth-keys.js';
import { rawRequest, refusedUpgrade } from '../support/http-raw.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';
import {
  ALLOWED_ORIGIN,
  API_KEY_SCOPES,
  FRAME_ROWS,
  HTTP_ROWS,
  METRICS_TOKEN,
  signalTo,
  UPGRADE_ROWS,
  type Prefix,
} from './auth.case.js';

/**
 * The auth table (auth.case.ts) on both transports, WebSocket rows in both encodings, against
 * a real redis-server; then the cases that need time or several steps: token refresh and expiry
 * on a live connection, id squatting across principals, rate and connection limits, failed-auth
 * slowdown and anonymous scopes. After every row: nothing stored for a refused request, and the
 * node still serves.
 */
type TestNode = Awaited<ReturnType<typeof startTestNode>>;
const TRANSPORTS = ['uws', 'ws'] as const;
const ENCODINGS = ['json', 'msgpack'] as const;

let redis: RedisServerHandle;
let keys: AuthKeys;
beforeAll(async () => {
  redis = await startRedisServer();
  keys = await makeAuthKeys({ ...API_KEY_SCOPES });
});
afterAll(async () => {
  await redis?.stop();
  keys?.cleanup();
});

let rowCounter = 0;
const channelsFor = (prefixes: Prefix[] = ['BTC']) => {
  rowCounter += 1;
  return prefixes.map((prefix) => `${prefix}.r${rowCounter}`);
};
const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

async function storedCount(node: TestNode, channel: string): Promise<number> {
  const answer = await rawRequest(node.baseUrl, { path: `/v1/channels/${channel}/history`, headers: bearer(keys.apiKeys['admin']) });
  expect(answer.status).toBe(200);
  return answer.body.entries.length as number;
}

/** Opens an accepted socket; closed (and its frames checked against the schemas) when the test ends. */
async function open(node: TestNode, encoding: 'json' | 'msgpack', token: string | undefined, via: 'header' | 'subprotocol' | 'query' = 'header', headers: Record<string, string> = {}): Promise<TestClient> {
  const client = await TestClient.connect(node.wsUrl, {
    encoding,
    ...(via === 'header' ? { headers: { ...bearer(token), ...headers } } : { headers }),
    ...(via === 'subprotocol' && token !== undefined ? { protocols: [`sigcast.v1.${encoding}`, `sigcast.token.${token}`] } : {}),
    ...(via === 'query' && token !== undefined ? { query: `token=${encodeURIComponent(token)}` } : {}),
  });
  onTestFinished(async () => {
    await client.close();
    for (const frame of client.frames) expect(ServerFrameSchema.safeParse(frame).success, JSON.stringify(frame)).toBe(true);
  });
  return client;
}

/** The node still serves: a valid publish is acknowledged and reaches a live subscriber. */
async function stillServes(node: TestNode, watcher: TestClient): Promise<void> {
  const answer = await rawRequest(node.baseUrl, {
    method: 'POST',
    path: '/v1/signals',
    headers: { ...bearer(keys.apiKeys['admin']), 'content-type': 'application/json' },
    body: JSON.stringify(signalTo('ALIVE')),
  });
  expect(answer.status).toBe(200);
  const seq = answer.body.entries[0].seq as number;
  await watcher.waitForFrame((frame) => frame.type === 'entry' && frame.channel === 'ALIVE' && frame.seq === seq);
}

function nodeEnv(transport: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `auth-${transport}-${Object.keys(extra).length}`,
    TRANSPORT: transport,
    ...authEnv(keys),
    ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    METRICS_TOKEN,
    AUTH_FAILURE_BURST: '1000000',
    ...extra,
  };
}

describe.each(TRANSPORTS)('auth table over %s', (transport) => {
  let node: TestNode;
  let watcher: TestClient;
  beforeAll(async () => {
    node = await startTestNode(nodeEnv(transport));
    watcher = await TestClient.connect(node.wsUrl, { headers: bearer(keys.apiKeys['admin']) });
    await watcher.subscribe('ALIVE');
  });
  afterAll(async () => {
    await watcher?.close();
    await node?.stop();
  });

  describe('HTTP', () => {
    it.each(HTTP_ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
      const channels = channelsFor(row.touches);
      const token = await row.token(keys);
      const method = row.method ?? 'POST';
      const answer = await rawRequest(node.baseUrl, {
        method,
        path: row.path ? row.path(channels[0]!) : '/v1/signals',
        headers: { ...bearer(token), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...row.headers },
        ...(method === 'POST' ? { body: JSON.stringify(row.body ? row.body(channels) : signalTo(channels[0]!)) } : {}),
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(row.status);
      if (row.code) expect(answer.body.error.code).toBe(row.code);
      if (row.denied) {
        const denied = row.denied.map((index) => channels[index]!);
        for (const channel of denied) expect(answer.body.error.message).toContain(channel);
        expect(answer.body.error.channel).toBe(denied[0]);
        // A channel that was allowed is not named as refused.
        for (const channel of channels.filter((c) => !denied.includes(c))) expect(answer.body.error.message).not.toContain(channel);
      }
      for (const [name, value] of Object.entries(row.answerHeaders ?? {})) {
        if (typeof value === 'string') expect(answer.headers[name]).toBe(value);
        else expect(String(answer.headers[name])).toMatch(value);
      }
      const published = method === 'POST' && row.status === 200 && row.path === undefined;
      for (const channel of channels) expect(await storedCount(node, channel)).toBe(published ? 1 : 0);
      await stillServes(node, watcher);
    });
  });

  describe.each(ENCODINGS)('WebSocket upgrade, %s', (encoding) => {
    it.each(UPGRADE_ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
      const token = await row.token(keys);
      const via = row.via ?? 'header';
      const headers = Object.fromEntries(Object.entries(row.headers ?? {}).map(([name, value]) => [name, value.replace('{port}', String(node.port))]));
      if (row.status !== undefined) {
        const query = via === 'query' && token !== undefined ? `&token=${encodeURIComponent(token)}` : '';
        const answer = await refusedUpgrade(`${node.wsUrl}?encoding=${encoding}${query}`, {
          headers: { ...(via === 'header' ? bearer(token) : {}), ...headers },
          ...(via === 'subprotocol' && token !== undefined ? { protocols: [`sigcast.v1.${encoding}`, `sigcast.token.${token}`] } : {}),
        });
        expect(answer.status).toBe(row.status);
        expect(answer.body.error.code).toBe(row.code);
        if (row.status === 401) expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
      } else {
        const client = await open(node, encoding, token, via, headers);
        expect(client.frames[0]).toMatchObject({ type: 'welcome', encoding, principal: row.principal });
        // The token never comes back as the selected subprotocol.
        expect(client.socket.protocol === '' || client.socket.protocol === `sigcast.v1.${encoding}`).toBe(true);
        expect(await client.request({ op: 'ping', id: 'alive' })).toMatchObject({ type: 'pong' });
      }
      await stillServes(node, watcher);
    });
  });

  describe.each(ENCODINGS)('WebSocket frames, %s', (encoding) => {
    it.each(FRAME_ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
      const channels = channelsFor(row.touches);
      const client = await open(node, encoding, await row.token(keys));
      const frame = { id: 'row', ...row.frame(channels) };
      const before = client.frames.length;
      client.send(frame);
      // The answer: the frame with the request's id (ack, error), or for a subscribe its `live` marker.
      const isAnswer = (f: ServerFrame) => (row.answer === 'live' ? f.type === 'live' || f.type === 'error' : 'id' in f && f.id === frame.id);
      let answer: ServerFrame | undefined;
      await waitFor(() => (answer = client.frames.slice(before).find(isAnswer)) !== undefined, 5000, `the answer to ${row.name}`);
      if (row.code) {
        expect(answer).toMatchObject({ type: 'error', code: row.code });
        if (row.denied !== undefined) expect(answer).toMatchObject({ channel: channels[row.denied] });
      } else {
        expect(answer?.type).toBe(row.answer);
      }
      const published = row.answer === 'ack';
      for (const channel of channels) expect(await storedCount(node, channel)).toBe(published ? 1 : 0);
      // The connection stays usable after a refused frame.
      expect(await client.request({ op: 'ping', id: 'after' })).toMatchObject({ type: 'pong', id: 'after' });
      await stillServes(node, watcher);
    });
  });

  describe.each(ENCODINGS)('live credentials, %s', (encoding) => {
    it('a connection whose JWT expires without refresh is closed with 4401 "token expired"', async () => {
      const client = await open(node, encoding, await signToken(keys, { sub: 'short', scope: 'subscribe:*', expiresIn: 2 }));
      await client.subscribe('ALIVE');
      const closed = await client.waitForClose(10_000);
      expect(closed).toEqual({ code: 4401, reason: 'token expired' });
      await stillServes(node, watcher);
    });

    it('an auth frame refreshes the token before it expires: the connection stays, with the new scopes', async () => {
      const first = await signToken(keys, { sub: 'refresher', scope: 'subscribe:ALIVE subscribe:ETH*', expiresIn: 2 });
      const client = await open(node, encoding, first);
      const [eth] = channelsFor(['ETH']);
      await client.subscribe(eth!);
      await client.subscribe('ALIVE');
      // The fresh token no longer allows ETH*: that subscription ends, named, and ALIVE stays.
      const authed = await client.request({ op: 'auth', id: 'refresh', token: await signToken(keys, { sub: 'refresher', scope: 'subscribe:ALIVE', expiresIn: 3600 }) });
      expect(authed).toMatchObject({ type: 'authed', principal: 'jwt:refresher', scope: 'subscribe:ALIVE', expiresAt: expect.any(Number) });
      await client.waitForFrame((frame) => frame.type === 'error' && frame.code === 'forbidden' && frame.channel === eth);
      // Past the first token's expiry the connection is still open and still live.
      const firstExpiry = decodeJwt(first).exp! * 1000;
      await waitFor(() => Date.now() > firstExpiry + 500, 10_000, 'the first token to expire');
      expect(await client.request({ op: 'ping', id: 'still' })).toMatchObject({ type: 'pong' });
      expect(client.closeCode).toBeUndefined();
      await stillServes(node, watcher);
      expect(client.entries('ALIVE').length).toBeGreaterThan(0);
    });

    it('a refused refresh keeps the old principal; a subscribe it does not allow is refused and the connection stays usable', async () => {
      const client = await open(node, encoding, keys.apiKeys['bot-7']);
      const refused = await client.request({ op: 'auth', id: 'bad', token: await signToken(keys, { scope: 'subscribe:*', expiresIn: -5 }) });
      expect(refused).toMatchObject({ type: 'error', code: 'token_expired' });
      const [btc] = channelsFor(['BTC']);
      expect(await client.request({ op: 'publish', id: 'ok', signals: signalTo(btc!) })).toMatchObject({ type: 'ack' });
      expect(await client.request({ op: 'subscribe', id: 'sub', channel: btc! })).toMatchObject({ type: 'error', code: 'forbidden', channel: btc });
      expect(await storedCount(node, btc!)).toBe(1);
    });
  });

  it('ids are per principal: one principal cannot squat another\'s id; re-sending one\'s own is a duplicate', async () => {
    const [channel] = channelsFor(['BTC']);
    const post = async (name: 'bot-7' | 'mallory', side: string) =>
      rawRequest(node.baseUrl, {
        method: 'POST',
        path: '/v1/signals',
        headers: { ...bearer(keys.apiKeys[name]), 'content-type': 'application/json' },
        body: JSON.stringify({ ...signalTo(channel!), side, id: 'bot7-000114' }),
      });
    // mallory publishes bot-7's next id first...
    expect((await post('mallory', 'SELL')).body.entries[0]).toMatchObject({ seq: 1, duplicate: false });
    // ...and bot-7's real signal is still stored and delivered, not answered as a duplicate.
    expect((await post('bot-7', 'BUY')).body.entries[0]).toMatchObject({ seq: 2, duplicate: false, id: 'bot7-000114' });
    expect((await post('bot-7', 'BUY')).body.entries[0]).toMatchObject({ seq: 2, duplicate: true });
    const client = await open(node, 'json', keys.apiKeys['admin']);
    expect(await client.request({ op: 'publish', id: 'ws', signals: { ...signalTo(channel!), id: 'bot7-000114' } })).toMatchObject({ type: 'ack', entries: [{ seq: 3, duplicate: false }] });
    const stored = await rawRequest(node.baseUrl, { path: `/v1/channels/${channel}/history`, headers: bearer(keys.apiKeys['admin']) });
    expect(stored.body.entries.map((e: { signal: { side: string; id: string } }) => [e.signal.side, e.signal.id])).toEqual([
      ['SELL', 'bot7-000114'],
      ['BUY', 'bot7-000114'],
      ['BUY', 'bot7-000114'],
    ]);
    // Metrics name who published (behind METRICS_TOKEN).
    const metrics = await rawRequest(node.baseUrl, { path: '/metrics', headers: bearer(METRICS_TOKEN) });
    expect(metrics.body).toMatch(/sigcast_principal_signals_in_total\{principal="key:mallory"\} [1-9]/);
    expect(metrics.body).toMatch(/sigcast_principal_signals_in_total\{principal="key:bot-7"\} [1-9]/);
  });
});

describe.each(TRANSPORTS)('limits over %s', (transport) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode(
      nodeEnv(transport, {
        PUBLISH_RATE: '1',
        PUBLISH_BURST: '4',
        MAX_CONNECTIONS_PER_IP: '2',
        TRUST_PROXY: 'true',
        AUTH_FAILURE_BURST: '3',
        ANONYMOUS_SCOPE: 'subscribe:*',
      }),
    );
  });
  afterAll(() => node?.stop());

  const post = (credential: string | undefined, body: unknown, forwardedFor = '10.9.0.1') =>
    rawRequest(node.baseUrl, {
      method: 'POST',
      path: '/v1/signals',
      headers: { ...bearer(credential), 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.9, ${forwardedFor}` },
      body: JSON.stringify(body),
    });

  it('a flood past PUBLISH_RATE is answered 429 with Retry-After, and nothing of it is stored', async () => {
    const [channel] = channelsFor(['BTC']);
    expect((await post(keys.apiKeys['bot-7'], [signalTo(channel!), signalTo(channel!), signalTo(channel!), signalTo(channel!)])).status).toBe(200);
    const flood = await post(keys.apiKeys['bot-7'], signalTo(channel!));
    expect(flood.status).toBe(429);
    expect(flood.body.error.code).toBe('rate_limited');
    expect(Number(flood.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another principal has its own bucket.
    expect((await post(keys.apiKeys['mallory'], signalTo(channel!))).status).toBe(200);
    expect(await storedCount(node, channel!)).toBe(5);
  });

  it('on WebSocket the flood gets a rate_limited error frame with the delay, and the connection stays usable', async () => {
    const client = await open(node, 'msgpack', await signToken(keys, { sub: 'flooder', scope: 'publish:*' }));
    const [channel] = channelsFor(['SOL']);
    expect(await client.request({ op: 'publish', id: 1, signals: [signalTo(channel!), signalTo(channel!), signalTo(channel!), signalTo(channel!)] })).toMatchObject({ type: 'ack' });
    const refused = await client.request({ op: 'publish', id: 2, signals: signalTo(channel!) });
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(await client.request({ op: 'ping', id: 3 })).toMatchObject({ type: 'pong' });
    expect(await storedCount(node, channel!)).toBe(4);
  });

  it('too many connections from one address (X-Forwarded-For with TRUST_PROXY) are refused with 429, others are not', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address, ...bearer(keys.apiKeys['reader']) });
    const first = await open(node, 'json', undefined, 'header', from('198.51.100.7'));
    await open(node, 'json', undefined, 'header', from('198.51.100.7'));
    const third = await refusedUpgrade(`${node.wsUrl}?encoding=json`, { headers: from('198.51.100.7') });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('too_many_connections');
    expect(third.headers['retry-after']).toBe('1');
    await open(node, 'json', undefined, 'header', from('198.51.100.8'));
    // Closing one gives its slot back.
    await first.close();
    await waitFor(async () => (await TestClient.connect(node.wsUrl, { headers: from('198.51.100.7') }).then((c) => (onTestFinished(() => c.close()), true), () => false)), 5000, 'a slot freed');
  });

  it('failed authentications from one address are slowed down: 429 auth_throttled, even for a valid key, then allowed again', async () => {
    const bad = await signToken(keys, { scope: 'publish:*', issuer: 'https://evil.test' });
    for (let i = 0; i < 3; i += 1) expect((await post(bad, signalTo('BTC.x'), '192.0.2.44')).status).toBe(401);
    const throttled = await post(keys.apiKeys['bot-7'], signalTo('BTC.x'), '192.0.2.44');
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('auth_throttled');
    expect(throttled.headers['retry-after']).toBe('1');
    const upgrade = await refusedUpgrade(`${node.wsUrl}?encoding=json`, { headers: { 'x-forwarded-for': '192.0.2.44', ...bearer(keys.apiKeys['reader']) } });
    expect(upgrade.body.error.code).toBe('auth_throttled');
    // Another address is not affected, and the throttled one may try again a second later.
    const good = await signToken(keys, { sub: 'throttle-good', scope: 'publish:*' });
    expect((await post(good, signalTo('BTC.y'), '192.0.2.45')).status).toBe(200);
    await waitFor(async () => (await post(good, signalTo('BTC.y'), '192.0.2.44')).status === 200, 5000, 'the throttle to forgive one failure');
  });

  it('ANONYMOUS_SCOPE=subscribe:* gives a public read-only feed beside authenticated publishers', async () => {
    const reader = await open(node, 'json', undefined);
    expect(reader.frames[0]).toMatchObject({ principal: 'anonymous' });
    await reader.subscribe('PUBLIC');
    expect(await reader.request({ op: 'publish', id: 'anon', signals: signalTo('PUBLIC') })).toMatchObject({ type: 'error', code: 'forbidden', channel: 'PUBLIC' });
    const anonymousPost = await post(undefined, signalTo('PUBLIC'), '10.9.0.2');
    expect(anonymousPost.status).toBe(403);
    expect(anonymousPost.body.error).toMatchObject({ code: 'forbidden', channel: 'PUBLIC' });
    expect((await post(await signToken(keys, { sub: 'public-feed', scope: 'publish:PUBLIC' }), signalTo('PUBLIC'), '10.9.0.3')).status).toBe(200);
    await reader.waitForFrame((frame: ServerFrame) => frame.type === 'entry' && frame.channel === 'PUBLIC');
    expect(reader.entries('PUBLIC')).toHaveLength(1);
  });
});
