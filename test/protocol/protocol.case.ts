import { Packr } from 'msgpackr';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { CLOSE } from '../../src/errors.js';
import { ServerFrameSchema, type ServerFrame } from '../../src/protocol/frames.js';
import { startRedisServer } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/**
 * The /v1 WebSocket protocol, run by protocol.test.ts on every transport x encoding against a
 * real redis-server. Each combination gets its own node and key prefix on the shared server.
 */
export type TransportName = 'uws' | 'ws';
export type EncodingName = 'json' | 'msgpack';
export interface Target {
  transport: TransportName;
  encoding: EncodingName;
}
type TestNode = Awaited<ReturnType<typeof startTestNode>>;
type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
interface Acked {
  channel: string;
  seq: number;
  epoch: string;
  id: string;
  duplicate: boolean;
}

export const MAX_FRAME_BYTES = 2048;
export const MAX_SUBSCRIPTIONS = 3;
const SLOW_BUFFER_BYTES = 64 * 1024;
const SLOW_BATCH = 100;
const packr = new Packr(MSGPACK_OPTIONS);

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Publishes `count` signals to `channel` over HTTP; returns the acknowledged entries. */
export async function publish(node: TestNode, channel: string, count: number, extra: Record<string, unknown> = {}): Promise<Acked[]> {
  const answer = await postSignals(node.baseUrl, Array.from({ length: count }, () => signal(channel, extra)));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.entries as Acked[];
}

/** One series (`name{label="x"}`), or a bare name: the sum of all its series. */
export async function metric(node: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.baseUrl}/metrics`)).text();
  const lines = text.split('\n').filter((line) => line.startsWith(`${name} `) || (!name.includes('{') && line.startsWith(`${name}{`)));
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** A client of `target`'s encoding, closed when the test ends; every frame it got must match the schemas. */
export async function connect(node: TestNode, encoding: EncodingName, options: { autoPong?: boolean; subprotocol?: string } = {}): Promise<TestClient> {
  const client = await TestClient.connect(node.wsUrl, { encoding, ...options });
  onTestFinished(async () => {
    await client.close();
    for (const frame of client.frames) expect(ServerFrameSchema.safeParse(frame).success, JSON.stringify(frame)).toBe(true);
  });
  return client;
}

/** The frames about one channel, in arrival order. */
export function channelFrames(client: TestClient, channel: string): ServerFrame[] {
  return client.frames.filter((frame) => 'channel' in frame && frame.channel === channel);
}

export function encodeAs(encoding: EncodingName, value: unknown): string | Uint8Array {
  return encoding === 'json' ? JSON.stringify(value) : packr.pack(value);
}

/** The connection still answers: a ping gets its pong. */
export async function expectAlive(client: TestClient): Promise<void> {
  const id = `alive-${client.frames.length}`;
  expect(await client.request({ op: 'ping', id })).toMatchObject({ type: 'pong', id });
}

/** The status and body of a refused WebSocket upgrade. */
export function refusedUpgrade(url: string, protocols: string[] = []): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    socket.on('open', () => reject(new Error('the upgrade was accepted')));
    socket.on('error', () => undefined);
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
  });
}

/** Every case of the protocol for one transport and encoding. */
export function protocolCases(target: Target, redisUrl: () => string): void {
  const { transport, encoding } = target;
  let node: TestNode;
  const open = (options: { autoPong?: boolean; subprotocol?: string } = {}) => connect(node, encoding, options);

  beforeAll(async () => {
    node = await startTestNode({
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: `p-${transport}-${encoding}`,
      TRANSPORT: transport,
      MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
      MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
    });
  });
  afterAll(() => node?.stop());

  test('greets with a welcome frame, whether the encoding comes from the query or a subprotocol', async () => {
    const client = await open();
    expect(client.frames[0]).toMatchObject({
      type: 'welcome',
      version: 1,
      encoding,
      heartbeatSeconds: 16,
      limits: { maxFrameBytes: MAX_FRAME_BYTES, maxSubscriptions: MAX_SUBSCRIPTIONS },
    });
    const negotiated = await open({ subprotocol: `sigcast.v1.${encoding}` });
    expect(negotiated.socket.protocol).toBe(`sigcast.v1.${encoding}`);
    expect(negotiated.frames[0]).toMatchObject({ type: 'welcome', encoding });
    await expectAlive(negotiated);
  });

  test('subscribes to several channels with different positions, then unsubscribes one', async () => {
    const [a, b, c] = ['POS.A', 'POS.B', 'POS.C'];
    await publish(node, a, 5);
    const [bFirst] = await publish(node, b, 5);
    await publish(node, c, 2);
    const client = await open();
    await client.subscribe(a, { last: 3 });
    await client.subscribe(b, { since: 2, epoch: bFirst!.epoch });
    await client.subscribe(c);
    expect(client.seqs(a)).toEqual([3, 4, 5]);
    expect(client.seqs(b)).toEqual([3, 4, 5]);
    expect(client.seqs(c)).toEqual([]);
    for (const [channel, replay] of [[a, 3], [b, 3], [c, 0]] as const) {
      const frames = channelFrames(client, channel);
      expect(frames[0]).toMatchObject({ type: 'subscribed', channel, replay, epoch: expect.any(String) });
      expect(frames.at(-1)).toMatchObject({ type: 'live', channel, seq: channel === c ? 2 : 5 });
    }
    await Promise.all([publish(node, a, 1), publish(node, b, 1), publish(node, c, 1)]);
    await waitFor(() => client.seqs(a).length === 4 && client.seqs(b).length === 4 && client.seqs(c).length === 1);
    expect([client.seqs(a), client.seqs(b), client.seqs(c)]).toEqual([[3, 4, 5, 6], [3, 4, 5, 6], [3]]);

    expect(await client.request({ op: 'unsubscribe', id: 'u-b', channel: b })).toMatchObject({ type: 'unsubscribed', channel: b });
    const after = client.frames.length;
    const watcher = await open();
    await watcher.subscribe(b);
    await publish(node, b, 2);
    await waitFor(() => watcher.seqs(b).includes(8));
    await publish(node, a, 1);
    await waitFor(() => client.seqs(a).includes(7));
    expect(client.frames.slice(after).filter((frame) => frame.type === 'entry' && frame.channel === b)).toEqual([]);
  });

  test('unsubscribes at any time, even before the replay is sent, and can subscribe again', async () => {
    const channel = 'UNSUB.EARLY';
    await publish(node, channel, 3);
    const client = await open();
    client.send({ op: 'subscribe', channel, last: 3 });
    client.send({ op: 'unsubscribe', id: 'early', channel });
    const unsubscribed = await client.waitForFrame((frame) => frame.type === 'unsubscribed');
    const cut = client.frames.indexOf(unsubscribed);
    const watcher = await open();
    await watcher.subscribe(channel);
    await publish(node, channel, 1);
    await waitFor(() => watcher.seqs(channel).includes(4));
    await expectAlive(client);
    expect(client.frames.slice(cut).filter((frame) => frame.type === 'entry')).toEqual([]);
    await client.subscribe(channel, { last: 2 });
    expect(client.seqs(channel).slice(-2)).toEqual([3, 4]);
  });

  test('resumes from a seq across a reconnect, with nothing lost or repeated', async () => {
    const channel = 'RESUME';
    const first = await open();
    await first.subscribe(channel);
    await publish(node, channel, 3);
    await waitFor(() => first.seqs(channel).length === 3);
    const last = first.entries(channel).at(-1)!;
    await first.close();
    await publish(node, channel, 3); // published while nobody listens
    const second = await open();
    await second.subscribe(channel, { since: last.seq, epoch: last.epoch });
    await publish(node, channel, 2);
    await waitFor(() => second.seqs(channel).length >= 5);
    expect([...first.seqs(channel), ...second.seqs(channel)]).toEqual(range(1, 8));
    expect(second.ofType('reset')).toEqual([]);
    const live = second.ofType('live')[0]!;
    expect(live.seq).toBe(6);
    expect(second.frames.indexOf(live)).toBeGreaterThan(second.frames.indexOf(second.entries(channel)[2]!));
  });

  test('with `batch`, the entries of one publish come as one `entries` frame (at most 100, a lone entry as `entry`); without it, a frame each', async () => {
    const channel = 'BATCH';
    await publish(node, channel, 3); // replayed one frame each, batch or not
    const batched = await open();
    const single = await open();
    await batched.subscribe(channel, { last: 3, batch: true });
    await single.subscribe(channel, { last: 3 });
    await publish(node, channel, 10);
    await publish(node, channel, 1);
    await publish(node, channel, 150);
    await waitFor(() => batched.seqs(channel).length === 164 && single.seqs(channel).length === 164, 10_000, 'every entry at both');
    expect(batched.seqs(channel)).toEqual(range(1, 164));
    expect(batched.entries(channel)).toEqual(single.entries(channel));
    const shapes = (client: TestClient): Array<number | 'live'> =>
      channelFrames(client, channel).flatMap((frame): Array<number | 'live'> => (frame.type === 'entries' ? [frame.entries.length] : frame.type === 'entry' ? [1] : frame.type === 'live' ? ['live'] : []));
    expect(shapes(batched)).toEqual([1, 1, 1, 'live', 10, 1, 100, 50]);
    expect(shapes(single)).toEqual([1, 1, 1, 'live', ...Array<number>(161).fill(1)]);
    // Counted per entry and subscriber, whatever the frames.
    expect(await metric(node, 'sigcast_entries_out_total')).toBeGreaterThanOrEqual(2 * 161);
  });

  test('tells a stale position it was truncated, and a wrong epoch that it changed, then sends what there is', async () => {
    const channel = 'STALE';
    const [firstEntry] = await publish(node, channel, 1000);
    await publish(node, channel, 5);
    const epoch = firstEntry!.epoch;
    const stale = await open();
    await stale.subscribe(channel, { since: 2, epoch });
    const reset: Frame<'reset'> = { type: 'reset', channel, reason: 'truncated', epoch, fromSeq: 6, requested: { since: 2, epoch } };
    expect(channelFrames(stale, channel).slice(0, 2)).toEqual([expect.objectContaining({ type: 'subscribed', replay: 1000 }), reset]);
    expect(stale.seqs(channel)).toEqual(range(6, 1005));

    const foreign = await open();
    await foreign.subscribe(channel, { since: 1000, epoch: 'not-this-epoch' });
    expect(foreign.ofType('reset')).toEqual([{ ...reset, reason: 'epoch_changed', requested: { since: 1000, epoch: 'not-this-epoch' } }]);
    expect(foreign.seqs(channel)).toEqual(range(6, 1005));
  });

  test('a Redis that lost its data (restart without persistence) starts a new epoch, and subscribers are told', async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const own = await startTestNode({ REDIS_URL: redis.url, TRANSPORT: transport, REDIS_RETRY_MAX_MS: '200' });
    onTestFinished(() => own.stop());
    const channel = 'EPOCH';
    const client = await connect(own, encoding);
    await client.subscribe(channel);
    const before = await publish(own, channel, 3);
    await waitFor(() => client.seqs(channel).length === 3);

    await redis.kill();
    await redis.restart();
    let answer: Awaited<ReturnType<typeof postSignals>> | undefined;
    await waitFor(async () => (answer = await postSignals(own.baseUrl, signal(channel))).status === 200, 15_000, 'ingest to work again');
    const after = answer!.body.entries[0] as Acked;
    expect(after.seq).toBe(1);
    expect(after.epoch).not.toBe(before[0]!.epoch);

    await waitFor(() => client.entries(channel).some((entry) => entry.epoch === after.epoch));
    // The feed may learn of the loss before the new entry exists: its reset then says '' (no history yet).
    expect(client.ofType('reset')).toEqual([
      { type: 'reset', channel, reason: 'epoch_changed', epoch: expect.toBeOneOf(['', after.epoch]), fromSeq: 1, requested: { since: 3, epoch: before[0]!.epoch } },
    ]);
    expect(client.entries(channel).map((entry) => [entry.epoch, entry.seq])).toEqual([
      ...range(1, 3).map((seq) => [before[0]!.epoch, seq]),
      [after.epoch, 1],
    ]);
    const late = await connect(own, encoding);
    await late.subscribe(channel, { since: 3, epoch: before[0]!.epoch });
    expect(late.ofType('reset')[0]).toMatchObject({ reason: 'epoch_changed', epoch: after.epoch, fromSeq: 1 });
    expect(late.seqs(channel)).toEqual([1]);
  });

  test('re-publishing an id over WebSocket or HTTP returns the original seq and is delivered once', async () => {
    const channel = 'IDEM';
    const subscriber = await open();
    await subscriber.subscribe(channel);
    const bot = await open();
    const original = await bot.request({ op: 'publish', id: 'p1', signals: signal(channel, { id: 'sig-1' }) });
    expect(original).toMatchObject({ type: 'ack', id: 'p1', entries: [{ channel, seq: 1, id: 'sig-1', duplicate: false }] });
    const again = await bot.request({ op: 'publish', id: 'p2', signals: [signal(channel, { id: 'sig-1' })] });
    expect(again).toMatchObject({ type: 'ack', id: 'p2', entries: [{ channel, seq: 1, id: 'sig-1', duplicate: true }] });
    const overHttp = await postSignals(node.baseUrl, signal(channel, { id: 'sig-1' }));
    expect(overHttp.body.entries).toMatchObject([{ channel, seq: 1, duplicate: true }]);

    expect((await postSignals(node.baseUrl, signal(channel, { id: 'sig-2' }))).body.entries).toMatchObject([{ seq: 2, duplicate: false }]);
    const overWs = await bot.request({ op: 'publish', id: 'p3', signals: signal(channel, { id: 'sig-2' }) });
    expect(overWs).toMatchObject({ type: 'ack', entries: [{ seq: 2, duplicate: true }] });
    await publish(node, channel, 1, { id: 'sig-3' });
    await waitFor(() => subscriber.seqs(channel).includes(3));
    expect(subscriber.entries(channel).map((entry) => entry.signal.id)).toEqual(['sig-1', 'sig-2', 'sig-3']);
  });

  test('publishes over WebSocket with an ack per entry, or a precise error and nothing stored', async () => {
    const bot = await open();
    const ack = await bot.request({ op: 'publish', id: 42, signals: [signal('PUB.A'), signal('PUB.B', { channels: ['PUB.B', 'PUB.C'] })] });
    expect(ack).toMatchObject({
      type: 'ack',
      id: 42,
      entries: [
        { channel: 'PUB.A', seq: 1, duplicate: false },
        { channel: 'PUB.B', seq: 1, duplicate: false },
        { channel: 'PUB.C', seq: 1, duplicate: false },
      ],
    });
    const bad = [signal('PUB.A'), signal('PUB.A', { strength: 2 }), { symbol: 'PUB.A', side: 'UP', strength: 0.5 }];
    const error = (await bot.request({ op: 'publish', id: 'bad', signals: bad })) as Frame<'error'>;
    expect(error).toMatchObject({ type: 'error', id: 'bad', code: 'invalid_signal' });
    expect(error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ index: 1, path: 'strength' }), expect.objectContaining({ index: 2, path: 'side' })]),
    );
    expect(error.details!.some((detail) => detail.index === 0)).toBe(false);
    expect(await bot.request({ op: 'publish', id: 'empty', signals: [] })).toMatchObject({ type: 'error', code: 'empty_batch' });
    expect(await bot.request({ op: 'publish', id: 'next', signals: signal('PUB.A') })).toMatchObject({ type: 'ack', entries: [{ channel: 'PUB.A', seq: 2 }] });
  });

  test('a consumer that stops reading is closed with 4008 and counted, while a fast one gets everything promptly', async () => {
    const own = await startTestNode({ REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `slow-${transport}-${encoding}`, TRANSPORT: transport, SEND_BUFFER_BYTES: String(SLOW_BUFFER_BYTES) });
    onTestFinished(() => own.stop());
    const channel = 'SLOW';
    const fast = await connect(own, encoding);
    const slow = await connect(own, encoding);
    await fast.subscribe(channel);
    await slow.subscribe(channel);
    slow.pauseReading();
    // ~2 KB per entry, so that the kernel's socket buffers fill after a few MB.
    const meta = Object.fromEntries(range(1, 8).map((i) => [`pad${i}`, 'x'.repeat(250)]));
    let published = 0;
    let worstLagMs = 0;
    while ((await metric(own, 'sigcast_slow_consumer_disconnects_total')) === 0) {
      expect(published, 'the slow consumer was never disconnected').toBeLessThan(50_000);
      await publish(own, channel, SLOW_BATCH, { meta });
      const acked = Date.now();
      published += SLOW_BATCH;
      await waitFor(() => fast.seqs(channel).length === published, 5000, 'the fast subscriber');
      worstLagMs = Math.max(worstLagMs, Date.now() - acked);
    }
    await publish(own, channel, SLOW_BATCH, { meta });
    published += SLOW_BATCH;
    await waitFor(() => fast.seqs(channel).length === published, 5000, 'the fast subscriber');
    expect(fast.seqs(channel)).toEqual(range(1, published));
    expect(worstLagMs).toBeLessThan(1000);
    slow.resumeReading();
    expect(await slow.waitForClose(10_000)).toEqual({ code: CLOSE.slow_consumer.code, reason: CLOSE.slow_consumer.reason });
    // What it got before the close is a gap-free prefix: it can resume from its last seq.
    expect(slow.seqs(channel)).toEqual(range(1, slow.seqs(channel).length));
    expect(await metric(own, 'sigcast_slow_consumer_disconnects_total')).toBe(1);
    await expectAlive(fast);
  });

  test('a replay burst far past the send buffer closes the consumer as slow (4008, or the hard cap), counted once, and releases its subscriptions', async () => {
    const own = await startTestNode({ REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `cap-${transport}-${encoding}`, TRANSPORT: transport, SEND_BUFFER_BYTES: String(16 * 1024) });
    onTestFinished(() => own.stop());
    // ~10 KB per entry: two replays of 1000 are ~20 MB, past the hard cap (~4 MB) plus what the kernel buffers.
    const meta = Object.fromEntries(range(1, 32).map((i) => [`pad${i}`, 'x'.repeat(250)]));
    const channels = ['CAP.A', 'CAP.B'];
    const watcher = await connect(own, encoding);
    for (const channel of channels) {
      await watcher.subscribe(channel);
      for (let batch = 0; batch < 20; batch += 1) await publish(own, channel, 50, { meta });
    }
    await waitFor(() => channels.every((channel) => watcher.seqs(channel).length === 1000), 10_000, 'the watcher');
    const greedy = await connect(own, encoding);
    greedy.pauseReading();
    // Both subscribes in one burst: each replay is written at once, inside one corked write.
    for (const channel of channels) greedy.socket.send(encodeAs(encoding, { op: 'subscribe', id: channel, channel, last: 1000 }));
    await waitFor(async () => (await metric(own, 'sigcast_slow_consumer_disconnects_total')) === 1, 10_000, 'the slow-consumer count');
    expect(await metric(own, 'sigcast_closes_total{cause="slow_consumer"}')).toBe(1);
    greedy.resumeReading();
    // The early sweep closes it with 4008 before the hard cap, where the library would drop it (1006).
    expect([CLOSE.slow_consumer.code, 1006]).toContain((await greedy.waitForClose(10_000)).code);
    // The dropped connection holds nothing: only the watcher's subscriptions remain.
    await waitFor(async () => (await metric(own, 'sigcast_connections')) === 1, 5000, 'the connection count');
    expect(await metric(own, 'sigcast_subscriptions')).toBe(channels.length);
    expect(await metric(own, 'sigcast_channels')).toBe(channels.length);
    await expectAlive(watcher);
  });

  describe('bad input gets an error frame with a stable code, and the connection keeps working', () => {
    const malformed = encoding === 'json' ? { bytes: '{"op": "subscribe", ', code: 'bad_json' } : { bytes: new Uint8Array([0xc1, 0x00]), code: 'bad_msgpack' };
    const wrongKind = encoding === 'json' ? new Uint8Array(packr.pack({ op: 'ping' })) : JSON.stringify({ op: 'ping' });
    const cases: Array<{ name: string; data: string | Uint8Array; code: string; id?: string; path?: string }> = [
      { name: 'unknown op', data: encodeAs(encoding, { op: 'explode', id: 'x1' }), code: 'unknown_op', id: 'x1' },
      { name: 'no op', data: encodeAs(encoding, { id: 'x2', channel: 'A' }), code: 'unknown_op', id: 'x2' },
      { name: 'not an object', data: encodeAs(encoding, 42), code: 'unknown_op' },
      { name: 'since of the wrong type', data: encodeAs(encoding, { op: 'subscribe', id: 'x3', channel: 'A', since: 'yesterday' }), code: 'invalid_frame', id: 'x3', path: 'since' },
      { name: 'last over 1000', data: encodeAs(encoding, { op: 'subscribe', id: 'x4', channel: 'A', last: 5000 }), code: 'invalid_frame', id: 'x4', path: 'last' },
      { name: 'an unknown field', data: encodeAs(encoding, { op: 'ping', id: 'x5', extra: true }), code: 'invalid_frame', id: 'x5' },
      { name: 'publish without id', data: encodeAs(encoding, { op: 'publish', signals: signal('A') }), code: 'invalid_frame', path: 'id' },
      { name: 'invalid channel name', data: encodeAs(encoding, { op: 'subscribe', id: 'x6', channel: 'bad channel!' }), code: 'invalid_channel', id: 'x6' },
      { name: 'channel of the wrong type', data: encodeAs(encoding, { op: 'subscribe', id: 'x7', channel: 7 }), code: 'invalid_channel', id: 'x7' },
      { name: `a ${encoding === 'json' ? 'binary' : 'text'} frame on a ${encoding} connection`, data: wrongKind, code: 'wrong_encoding' },
      { name: `invalid ${encoding}`, data: malformed.bytes, code: malformed.code },
    ];
    test.each(cases)('$name -> $code', async ({ data, code, id, path }) => {
      const client = await open();
      const bystander = await open();
      const before = client.frames.length;
      client.sendRaw(data);
      const error = (await client.waitForFrame((frame) => frame.type === 'error' && client.frames.indexOf(frame) >= before)) as Frame<'error'>;
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
      if (id !== undefined) expect(error.id).toBe(id);
      if (path !== undefined) expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      await expectAlive(client);
      await expectAlive(bystander);
    });

    test('subscription errors: not subscribed, already subscribed, too many channels', async () => {
      const client = await open();
      expect(await client.request({ op: 'unsubscribe', id: 'n1', channel: 'NEVER' })).toMatchObject({ type: 'error', code: 'not_subscribed', channel: 'NEVER' });
      const channels = range(1, MAX_SUBSCRIPTIONS + 1).map((i) => `MANY.${i}`);
      for (const channel of channels.slice(0, MAX_SUBSCRIPTIONS)) await client.subscribe(channel);
      expect(await client.request({ op: 'subscribe', id: 'd1', channel: channels[0] })).toMatchObject({ type: 'error', code: 'already_subscribed', channel: channels[0] });
      expect(await client.request({ op: 'subscribe', id: 't1', channel: channels.at(-1) })).toMatchObject({ type: 'error', code: 'too_many_subscriptions', channel: channels.at(-1) });
      // Room again after an unsubscribe; and every subscription kept working throughout.
      await client.request({ op: 'unsubscribe', id: 'u1', channel: channels[1] });
      await client.subscribe(channels.at(-1)!);
      await publish(node, channels[0]!, 1);
      await publish(node, channels.at(-1)!, 1);
      await waitFor(() => client.seqs(channels[0]!).length === 1 && client.seqs(channels.at(-1)!).length === 1);
    });

    test(`a frame over MAX_FRAME_BYTES closes the connection with ${CLOSE.frame_too_large.code}; others carry on`, async () => {
      const client = await open();
      const bystander = await open();
      client.sendRaw(encodeAs(encoding, { op: 'ping', id: 'p'.repeat(MAX_FRAME_BYTES) }));
      expect(await client.waitForClose()).toEqual({ code: CLOSE.frame_too_large.code, reason: CLOSE.frame_too_large.reason });
      await expectAlive(bystander);
    });

    test('a bad encoding parameter or subprotocol is refused with HTTP 400 on upgrade', async () => {
      const query = await refusedUpgrade(`${node.wsUrl}?encoding=xml`);
      expect(query.status).toBe(400);
      expect(JSON.parse(query.body)).toMatchObject({ error: { message: expect.stringContaining('json or msgpack') } });
      const protocol = await refusedUpgrade(node.wsUrl, ['sigcast.v2.json']);
      expect(protocol.status).toBe(400);
      const mismatch = await refusedUpgrade(`${node.wsUrl}?encoding=${encoding}`, [`sigcast.v1.${encoding === 'json' ? 'msgpack' : 'json'}`]);
      expect(mismatch.status).toBe(400);
      await expectAlive(await open());
    });
  });
}

/** What does not depend on the encoding: the HTTP routes and limits, served the same by each transport. */
export function httpCases(transport: TransportName, redisUrl: () => string): void {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `http-${transport}`, TRANSPORT: transport, MAX_BODY_BYTES: '1024' });
  });
  afterAll(() => node?.stop());

  test('serves the same HTTP routes, with JSON errors and the body limit', async () => {
    expect(await (await fetch(`${node.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const [entry] = await publish(node, 'HTTP.A', 1);
    const history = await (await fetch(`${node.baseUrl}/v1/channels/HTTP.A/history?since=0`)).json();
    expect(history).toMatchObject({ channel: 'HTTP.A', entries: [{ seq: 1, epoch: entry!.epoch }] });
    const missing = await fetch(`${node.baseUrl}/nope`);
    expect([missing.status, await missing.json()]).toMatchObject([404, { error: { code: 'not_found' } }]);
    const wrongMethod = await fetch(`${node.baseUrl}/v1/signals`);
    expect([wrongMethod.status, await wrongMethod.json()]).toMatchObject([405, { error: { code: 'method_not_allowed' } }]);
    // A plain GET of the WebSocket path is told to upgrade, on both transports.
    const plain = await fetch(node.wsUrl.replace('ws:', 'http:'));
    expect([plain.status, plain.headers.get('upgrade'), await plain.json()]).toMatchObject([426, 'websocket', { error: { code: 'upgrade_required' } }]);
    const tooLarge = await postSignals(node.baseUrl, Array.from({ length: 40 }, () => signal('HTTP.A')));
    expect([tooLarge.status, tooLarge.body]).toMatchObject([413, { error: { code: 'body_too_large' } }]);
    expect((await postSignals(node.baseUrl, signal('HTTP.A'))).body.entries).toMatchObject([{ seq: 2 }]);
  });
}

/** Graceful shutdown, as node.stop() drives it: sockets closed with 1001, nothing new accepted. */
export function shutdownCase(transport: TransportName, redisUrl: () => string): void {
  test(`${transport}: stop() closes every WebSocket with 1001 and refuses new connections`, async () => {
    const node = await startTestNode({ REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `stop-${transport}`, TRANSPORT: transport });
    onTestFinished(() => node.stop());
    const clients = await Promise.all([connect(node, 'json'), connect(node, 'msgpack')]);
    await clients[0]!.subscribe('STOP');
    await node.stop();
    await node.stop(); // idempotent
    for (const client of clients) expect(await client.waitForClose()).toEqual({ code: CLOSE.going_away.code, reason: CLOSE.going_away.reason });
    expect(node.transport.connectionCount).toBe(0);
    await expect(TestClient.connect(node.wsUrl)).rejects.toThrow();
  });
}

/**
 * Heartbeats (slow by nature, so once per transport): a client that answers nothing is dropped
 * without a close frame after at most twice HEARTBEAT_SECONDS; one answering the pings stays.
 */
export function heartbeatCase(transport: TransportName, redisUrl: () => string): void {
  const heartbeatSeconds = 4;
  test(`${transport}: a client that stops answering pings is closed; one that answers stays`, async () => {
    const node = await startTestNode({ REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `hb-${transport}`, TRANSPORT: transport, HEARTBEAT_SECONDS: String(heartbeatSeconds) });
    onTestFinished(() => node.stop());
    const started = Date.now();
    const silent = await connect(node, 'json', { autoPong: false });
    const answering = await connect(node, 'json');
    const pings = { silent: 0, answering: 0 };
    silent.socket.on('ping', () => pings.silent++);
    answering.socket.on('ping', () => pings.answering++);
    const closed = await silent.waitForClose(2 * heartbeatSeconds * 1000 + 5000);
    const silentForMs = Date.now() - started;
    expect(closed.code).toBe(1006); // dropped, no close frame
    expect(silentForMs).toBeGreaterThanOrEqual(heartbeatSeconds * 1000 - 500);
    expect(silentForMs).toBeLessThanOrEqual(2 * heartbeatSeconds * 1000 + 3000);
    expect(pings.silent).toBeGreaterThanOrEqual(1);
    expect(pings.answering).toBeGreaterThanOrEqual(1);
    expect(answering.closeCode).toBeUndefined();
    await expectAlive(answering);
    expect(await metric(node, 'sigcast_heartbeat_timeouts_total')).toBe(1);
  });
}
