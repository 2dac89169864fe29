import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from './support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from './support/sigcast.js';
import { waitFor } from './support/wait.js';

describe('node lifecycle', () => {
  it('shuts down cleanly: in-flight ingest is answered and stored, sockets get 1001, new work is refused', async () => {
    const redis = await startRedisServer();
    const node = await startTestNode({ REDIS_URL: redis.url });
    const client = await TestClient.connect(node.wsUrl);
    await client.subscribe('SHUT');

    // Hold Redis still so that the ingest below is in flight when shutdown begins.
    redis.pause();
    const inFlight = postSignals(node.baseUrl, Array.from({ length: 10 }, () => signal('SHUT')));
    await waitFor(async () => (await fetch(`${node.baseUrl}/metrics`).then((r) => r.text())).includes('sigcast_ingest_in_flight 1'), 2000, 'request in flight');
    const stopping = node.stop();
    setTimeout(() => redis.resume(), 200);
    const answer = await inFlight;
    await stopping;

    expect(answer.status).toBe(200);
    expect(answer.body.entries).toHaveLength(10);
    await waitFor(() => client.closeCode !== undefined, 5000, 'client closed');
    expect(client.closeCode).toBe(1001);
    // No new connections are accepted any more.
    await expect(freshGet(`${node.baseUrl}/healthz`)).rejects.toThrow(/ECONNREFUSED/);

    const check = redis.client();
    expect(await check.llen('sc:{SHUT}:log')).toBe(10);
    await check.quit();
    await node.stop(); // idempotent
    await redis.stop();
  });

  it('runs on the in-memory broker with no Redis at all', async () => {
    const node = await startTestNode();
    expect(node.broker.kind).toBe('memory');
    const client = await TestClient.connect(node.wsUrl);
    await client.subscribe('MEM', { last: 10 });
    expect((await postSignals(node.baseUrl, [signal('MEM'), signal('MEM')])).status).toBe(200);
    await waitFor(() => client.entries('MEM').length === 2);
    const late = await TestClient.connect(node.wsUrl);
    await late.subscribe('MEM', { last: 10 });
    expect(late.seqs('MEM')).toEqual([1, 2]);
    await client.close();
    await late.close();
    await node.stop();
  });
});

/** A GET on a new TCP connection (fetch would reuse a kept-alive one). */
function freshGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}
