import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CLIENT_RECONNECT_CLOSE, connect, type SigcastClient, type SigcastClientError, type SigcastClientOptions } from '../../clients/sigcast-client.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/** What the client puts on the wire for a token and a conflated subscription. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(url: string, options: SigcastClientOptions = {}): SigcastClient {
  const created = connect(url, { WebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
  cleanups.push(() => created.close());
  return created;
}

/** A WebSocket server that records each upgrade and every frame, and greets like sigcast does. */
async function recordingServer(features?: string[]) {
  const upgrades: Array<{ url: string; protocols: string[] | undefined }> = [];
  const frames: Array<Record<string, unknown>> = [];
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => (offered.has('sigcast.v1.json') ? 'sigcast.v1.json' : false) });
  server.on('connection', (socket, request: IncomingMessage) => {
    const offered = request.headers['sec-websocket-protocol'];
    upgrades.push({ url: request.url ?? '', protocols: offered?.split(',').map((protocol) => protocol.trim()) });
    socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
    const limits = { maxFrameBytes: 262_144, maxSubscriptions: 1000, maxBatch: 1000 };
    socket.send(JSON.stringify({ type: 'welcome', version: 1, node: 'recorder', encoding: 'json', heartbeatSeconds: 16, limits, ...(features ? { features } : {}) }));
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ws`;
  return { url, upgrades, frames, dropAll: () => server.clients.forEach((socket) => socket.terminate()) };
}

describe('client token', () => {
  it('offers a token as a sigcast.token.<token> subprotocol beside the encoding, not in the URL', async () => {
    const server = await recordingServer();
    await client(server.url, { token: 'eyJhbGciOi.J9-eyJzdWIi_Oi.sig' }).opened();
    expect(server.upgrades).toEqual([{ url: '/v1/ws?encoding=json', protocols: ['sigcast.v1.json', 'sigcast.token.eyJhbGciOi.J9-eyJzdWIi_Oi.sig'] }]);
  });

  it('sends a token a subprotocol cannot carry as ?token=', async () => {
    const server = await recordingServer();
    await client(server.url, { token: 'key with/slash=' }).opened();
    expect(server.upgrades[0]!.protocols).toBeUndefined();
    expect(new URL(server.upgrades[0]!.url, 'ws://x').searchParams.get('token')).toBe('key with/slash=');
  });

  it('asks a token function again before every reconnect', async () => {
    const server = await recordingServer();
    let issued = 0;
    const sigcast = client(server.url, { token: () => `t${++issued}` });
    await sigcast.opened();
    server.dropAll();
    await waitFor(() => server.upgrades.length === 2, 5000, 'the reconnect');
    expect(server.upgrades.map((upgrade) => upgrade.protocols)).toEqual([
      ['sigcast.v1.json', 'sigcast.token.t1'],
      ['sigcast.v1.json', 'sigcast.token.t2'],
    ]);
  });

  it('reconnect() replaces the connection (with a fresh token) and resumes every subscription', async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    let issued = 0;
    const sigcast = client(node.wsUrl, { token: () => `t${++issued}` });
    const seqs: number[] = [];
    const closes: number[] = [];
    let lives = 0;
    sigcast.on('close', (info) => closes.push(info.code));
    sigcast.subscribe('BTCUSDT', { last: 10, onLive: () => (lives += 1) }, (entry) => seqs.push(entry.seq));
    await postSignals(node.baseUrl, [signal('BTCUSDT'), signal('BTCUSDT')]);
    await waitFor(() => seqs.length === 2, 5000, 'two entries');
    sigcast.reconnect();
    await postSignals(node.baseUrl, [signal('BTCUSDT')]);
    await waitFor(() => lives === 2 && seqs.length === 3, 5000, 'the resumed subscription');
    expect(seqs).toEqual([1, 2, 3]);
    expect(closes).toEqual([CLIENT_RECONNECT_CLOSE]);
    expect(issued).toBe(2);
  });

  it('works against a server without auth, which ignores it', async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    const sigcast = client(node.wsUrl, { token: 'not-checked-yet' });
    const seqs: number[] = [];
    sigcast.subscribe('BTCUSDT', { last: 10 }, (entry) => seqs.push(entry.seq));
    expect((await sigcast.publish({ symbol: 'BTCUSDT', side: 'BUY', strength: 1 }))[0]!.seq).toBe(1);
    await waitFor(() => seqs.length === 1, 5000, 'the entry');
  });
});

describe('conflated subscriptions', () => {
  it('sends conflate in the subscribe frame only when asked for (and no batch to a server that does not list it)', async () => {
    const server = await recordingServer();
    const sigcast = client(server.url);
    await sigcast.opened();
    sigcast.subscribe('BTCUSDT', { last: 5, conflate: 100 }, () => {});
    sigcast.subscribe('ETHUSDT', { last: 5 }, () => {});
    await waitFor(() => server.frames.length === 2, 5000, 'two subscribe frames');
    expect(server.frames).toEqual([
      { op: 'subscribe', id: 's1', channel: 'BTCUSDT', last: 5, conflate: 100 },
      { op: 'subscribe', id: 's2', channel: 'ETHUSDT', last: 5 },
    ]);
  });

  it('asks for batch only from a server whose welcome lists it (an older one would refuse the field)', async () => {
    const server = await recordingServer(['batch', 'some-later-feature']);
    const sigcast = client(server.url);
    await sigcast.opened();
    sigcast.subscribe('BTCUSDT', { last: 5, conflate: 100 }, () => {});
    sigcast.subscribe('ETHUSDT', {}, () => {});
    await waitFor(() => server.frames.length === 2, 5000, 'two subscribe frames');
    expect(server.frames).toEqual([
      { op: 'subscribe', id: 's1', channel: 'BTCUSDT', last: 5, batch: true, conflate: 100 },
      { op: 'subscribe', id: 's2', channel: 'ETHUSDT', batch: true },
    ]);
  });

  it("relays the server's answer: today's server refuses the unknown key with an error frame, the app is told", async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    await postSignals(node.baseUrl, [signal('BTCUSDT')]);
    // What the server itself says to a conflated subscribe decides what the client must report.
    const raw = await TestClient.connect(node.wsUrl);
    const answer = await raw.request({ op: 'subscribe', id: 'probe', channel: 'BTCUSDT', conflate: 100 });
    await raw.close();

    const sigcast = client(node.wsUrl);
    const errors: SigcastClientError[] = [];
    let lives = 0;
    sigcast.subscribe('BTCUSDT', { last: 1, conflate: 100, onError: (error) => errors.push(error), onLive: () => (lives += 1) }, () => {});
    if (answer.type === 'error') {
      await waitFor(() => errors.length === 1, 5000, 'the refusal');
      expect(errors[0]).toMatchObject({ code: answer.code, message: answer.message, channel: 'BTCUSDT' });
    } else {
      await waitFor(() => lives === 1, 5000, 'the conflated subscription');
      expect(errors).toEqual([]);
    }
  });
});
