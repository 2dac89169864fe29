import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CLIENT_HEARTBEAT_CLOSE, connect, type CloseInfo, type SigcastClient } from '../../clients/sigcast-client.js';
import type { WelcomeFrame } from '../../src/protocol/frames.js';
import { waitFor } from '../support/wait.js';

/**
 * A connection that dies without a close (a peer that stops answering, a laptop that slept)
 * shows nothing to a browser, which cannot see WebSocket pings. The client must notice by itself:
 * a server that welcomes it and then goes silent stands in for such a connection.
 */
let server: WebSocketServer | undefined;
let client: SigcastClient | undefined;
afterEach(async () => {
  await client?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

it('pings a silent server after half the heartbeat, drops it after the whole, and reconnects', async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const received: unknown[][] = [];
  server.on('connection', (socket) => {
    const frames: unknown[] = [];
    received.push(frames);
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    const welcome: WelcomeFrame = {
      type: 'welcome',
      version: 1,
      node: 'silent',
      encoding: 'json',
      heartbeatSeconds: 1,
      limits: { maxFrameBytes: 1024, maxSubscriptions: 10, maxBatch: 10 },
    };
    socket.send(JSON.stringify(welcome)); // ...and never another frame
  });
  const { port } = server.address() as AddressInfo;

  const closes: CloseInfo[] = [];
  client = connect(`ws://127.0.0.1:${port}/v1/ws`, { WebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
  client.on('close', (info) => closes.push(info));
  const started = Date.now();
  await waitFor(() => closes.length === 1, 5000, 'the client to give up on the silent server');
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(closes[0]).toMatchObject({ code: CLIENT_HEARTBEAT_CLOSE });
  expect(closes[0]!.reconnectInMs).toBeGreaterThan(0);
  expect(received[0]).toContainEqual({ op: 'ping' });
  await waitFor(() => received.length === 2, 5000, 'the reconnect');
});
