import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, type Entry, type PublishItem, type ResetFrame, type SigcastClient, type SigcastClientError, type SigcastClientOptions } from '../../clients/sigcast-client.js';
import type { WebSocketConstructor } from '../../clients/wire.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

// Compile-time check: the `ws` package fits the client's WebSocket seam as it is.
const NodeWebSocket: WebSocketConstructor = WebSocket;

type TestNode = Awaited<ReturnType<typeof startTestNode>>;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(env: Record<string, string> = {}): Promise<TestNode> {
  const started = await startTestNode(env);
  cleanups.push(() => started.stop());
  return started;
}

function client(url: string | (() => string), options: SigcastClientOptions = {}): SigcastClient {
  const created = connect(url, { WebSocket: NodeWebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
  cleanups.push(() => created.close());
  return created;
}

/** Subscribes and records what the app sees. */
function record(sigcast: SigcastClient, channel: string, position: { last?: number; since?: number; epoch?: string } = {}) {
  const seen = { entries: [] as Entry[], resets: [] as ResetFrame[], live: 0, errors: [] as string[] };
  const unsubscribe = sigcast.subscribe(
    channel,
    { ...position, onReset: (reset) => seen.resets.push(reset), onLive: () => (seen.live += 1), onError: (error) => seen.errors.push(error.code) },
    (entry) => seen.entries.push(entry),
  );
  return Object.assign(seen, { unsubscribe, seqs: () => seen.entries.map((entry) => entry.seq) });
}

const buy = (symbol: string): PublishItem => ({ symbol, side: 'BUY', strength: 0.5 });
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(['json', 'msgpack'] as const)('SigcastClient over %s', (encoding) => {
  it('replays the last N, marks live, then delivers live entries in order', async () => {
    const server = await node();
    expect((await postSignals(server.baseUrl, [1, 2, 3, 4].map(() => signal('BTCUSDT')))).status).toBe(200);
    const sigcast = client(server.wsUrl, { encoding });
    const welcome = await sigcast.opened();
    expect(welcome.encoding).toBe(encoding);

    const seen = record(sigcast, 'BTCUSDT', { last: 2 });
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    expect(seen.seqs()).toEqual([3, 4]);
    await postSignals(server.baseUrl, [signal('BTCUSDT', { side: 'SELL', price: 64_000.5 }), signal('BTCUSDT')]);
    await waitFor(() => seen.entries.length === 4, 5000, 'live entries');
    expect(seen.seqs()).toEqual([3, 4, 5, 6]);
    expect(seen.entries[2]).toMatchObject({ channel: 'BTCUSDT', signal: { side: 'SELL', price: 64_000.5 } });
    expect(sigcast.position('BTCUSDT')).toEqual({ epoch: seen.entries[0]!.epoch, seq: 6 });
  });

  it('asks for batch (the welcome lists it): publishes of 10, 1 and 150 reach the app as 161 entries, once each, in order', async () => {
    const server = await node();
    const sigcast = client(server.wsUrl, { encoding });
    expect((await sigcast.opened()).features).toContain('batch');
    const seen = record(sigcast, 'BATCHED');
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    for (const count of [10, 1, 150]) expect((await postSignals(server.baseUrl, Array.from({ length: count }, () => signal('BATCHED')))).status).toBe(200);
    await waitFor(() => seen.entries.length >= 161, 5000, 'every entry');
    expect(seen.seqs()).toEqual(range(1, 161));
    expect(seen.entries.every((entry) => entry.channel === 'BATCHED' && entry.signal.symbol === 'BATCHED')).toBe(true);
    expect(sigcast.position('BATCHED')).toEqual({ epoch: seen.entries[0]!.epoch, seq: 161 });
  });

  it('publishes with an ack per signal and channel, idempotently by id', async () => {
    const server = await node();
    const sigcast = client(server.wsUrl, { encoding });
    const seen = record(sigcast, 'strategy.momentum');
    const acks = await sigcast.publish([
      { symbol: 'ETHUSDT', side: 'BUY', strength: 0.9, id: 'bot-1', channels: ['ETHUSDT', 'strategy.momentum'] },
      { symbol: 'BTCUSDT', side: 'HOLD', strength: 0.1 },
    ]);
    expect(acks.map(({ channel, seq, id, duplicate }) => ({ channel, seq, id, duplicate }))).toEqual([
      { channel: 'ETHUSDT', seq: 1, id: 'bot-1', duplicate: false },
      { channel: 'strategy.momentum', seq: 1, id: 'bot-1', duplicate: false },
      { channel: 'BTCUSDT', seq: 1, id: acks[2]!.id, duplicate: false },
    ]);
    const again = await sigcast.publish({ symbol: 'ETHUSDT', side: 'BUY', strength: 0.9, id: 'bot-1' });
    expect(again).toMatchObject([{ channel: 'ETHUSDT', seq: 1, duplicate: true }]);
    await waitFor(() => seen.entries.length === 1, 5000, 'the published entry');
    expect(seen.entries[0]!.signal.id).toBe('bot-1');
  });

  it('rejects a publish with the server error code and per-item details; nothing is stored', async () => {
    const server = await node();
    const sigcast = client(server.wsUrl, { encoding });
    const failure = sigcast.publish([buy('BTCUSDT'), { symbol: 'BTCUSDT', side: 'UP', strength: 2 } as unknown as PublishItem]);
    await expect(failure).rejects.toMatchObject({ name: 'SigcastClientError', code: 'invalid_signal' });
    const error = (await failure.catch((caught: unknown) => caught)) as SigcastClientError;
    expect(error.details!.map(({ index, path }) => `${index}:${path}`).sort()).toEqual(['1:side', '1:strength']);
    const history = await fetch(`${server.baseUrl}/v1/channels/BTCUSDT/history`).then((response) => response.json());
    expect(history).toMatchObject({ headSeq: 0, entries: [] });
  });
});

describe('SigcastClient', () => {
  it('surfaces a reset when its epoch is not the channel’s, then delivers from fromSeq', async () => {
    const server = await node();
    await postSignals(server.baseUrl, [signal('ETHUSDT'), signal('ETHUSDT')]);
    const sigcast = client(server.wsUrl);
    const events: ResetFrame[] = [];
    sigcast.on('reset', (reset) => events.push(reset));
    const seen = record(sigcast, 'ETHUSDT', { since: 1, epoch: 'an-epoch-long-gone' });
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    expect(seen.resets).toMatchObject([{ reason: 'epoch_changed', fromSeq: 1, requested: { since: 1, epoch: 'an-epoch-long-gone' } }]);
    expect(events).toEqual(seen.resets);
    expect(seen.seqs()).toEqual([1, 2]);
  });

  it('surfaces a truncated position: the history no longer holds what it missed', async () => {
    const server = await node({ HISTORY_SIZE: '5' });
    const acks = (await postSignals(server.baseUrl, range(1, 12).map(() => signal('SOLUSDT')))).body.entries as Array<{ epoch: string }>;
    const sigcast = client(server.wsUrl);
    const seen = record(sigcast, 'SOLUSDT', { since: 2, epoch: acks[0]!.epoch });
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    expect(seen.resets).toMatchObject([{ reason: 'truncated', fromSeq: 8 }]);
    expect(seen.seqs()).toEqual(range(8, 12));
  });

  it('reports a refused subscription and drops it; unsubscribe stops delivery', async () => {
    const server = await node();
    const sigcast = client(server.wsUrl);
    const bad = record(sigcast, 'not a channel!');
    await waitFor(() => bad.errors.length === 1, 5000, 'the subscribe error');
    expect(bad.errors).toEqual(['invalid_channel']);
    expect(sigcast.position('not a channel!')).toBeUndefined();

    const seen = record(sigcast, 'ADAUSDT');
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    await sigcast.publish(buy('ADAUSDT'));
    await waitFor(() => seen.entries.length === 1, 5000, 'the first entry');
    seen.unsubscribe();
    await sigcast.publish(buy('ADAUSDT'));
    // A ping answered after the second entry was published proves the socket carried everything before it.
    await sigcast.ping();
    expect(seen.seqs()).toEqual([1]);
  });

  it('measures a ping round trip; close is idempotent and fails later requests', async () => {
    const server = await node();
    const sigcast = client(server.wsUrl);
    const closes: number[] = [];
    sigcast.on('close', (info) => closes.push(info.code));
    expect(await sigcast.ping()).toBeGreaterThanOrEqual(0);
    await Promise.all([sigcast.close(), sigcast.close()]);
    await sigcast.close();
    expect(closes).toEqual([1000]);
    await expect(sigcast.publish(buy('BTCUSDT'))).rejects.toMatchObject({ code: 'client_closed' });
    await expect(sigcast.ping()).rejects.toMatchObject({ code: 'client_closed' });
  });

  it('fails a publish whose connection closes (1009) before the ack, then resumes every channel', async () => {
    const server = await node({ MAX_FRAME_BYTES: '1024' });
    const sigcast = client(server.wsUrl);
    const closes: number[] = [];
    sigcast.on('close', (info) => closes.push(info.code));
    const [btc, eth] = [record(sigcast, 'BTCUSDT'), record(sigcast, 'ETHUSDT')];
    await waitFor(() => btc.live === 1 && eth.live === 1, 5000, 'both subscriptions');
    await postSignals(server.baseUrl, [buy('BTCUSDT'), buy('ETHUSDT')]);

    const tooLarge = sigcast.publish({ ...buy('BTCUSDT'), meta: { note: 'x'.repeat(256), more: 'y'.repeat(256), most: 'z'.repeat(256), all: 'w'.repeat(256) } });
    await expect(tooLarge).rejects.toMatchObject({ code: 'connection_closed' });
    expect(closes[0]).toBe(1009);
    await postSignals(server.baseUrl, [buy('BTCUSDT'), buy('ETHUSDT'), buy('BTCUSDT')]);
    await waitFor(() => btc.live === 2 && eth.live === 2, 5000, 'both re-subscriptions');
    await waitFor(() => btc.entries.length === 3 && eth.entries.length === 2, 5000, 'every entry');
    expect([btc.seqs(), eth.seqs()]).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
  });

  it('reconnects when its node is replaced by one without the history, and reports the new epoch', async () => {
    const first = await startTestNode();
    cleanups.push(() => first.stop());
    await postSignals(first.baseUrl, [signal('XRPUSDT'), signal('XRPUSDT')]);
    // The app picks the node at every (re)connect: a restarted node cannot rebind its port at once (TIME_WAIT).
    let url = first.wsUrl;
    const resumed = client(() => url);
    const closes: number[] = [];
    resumed.on('close', (info) => closes.push(info.code));
    const seen = record(resumed, 'XRPUSDT', { last: 10 });
    await waitFor(() => seen.live === 1, 5000, 'the live marker');
    const oldEpoch = seen.entries[0]!.epoch;

    await first.stop();
    const second = await node(); // in-memory broker: the history is gone
    url = second.wsUrl;
    await waitFor(() => seen.live === 2, 10_000, 'the re-subscription');
    expect(closes[0]).toBe(1001);
    expect(seen.resets).toMatchObject([{ reason: 'epoch_changed', requested: { since: 2, epoch: oldEpoch } }]);
    await postSignals(second.baseUrl, [signal('XRPUSDT')]);
    await waitFor(() => seen.entries.length === 3, 5000, 'the entry of the new epoch');
    expect(seen.seqs()).toEqual([1, 2, 1]);
    expect(seen.entries[2]!.epoch).not.toBe(oldEpoch);
  });
});
