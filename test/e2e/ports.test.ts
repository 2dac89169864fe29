import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeSharesPorts } from '../../src/wiring.js';
import { runCli } from '../support/cli.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { TestClient } from '../support/sigcast.js';
import { freePort, startSigcastProcess, type SigcastProcess } from '../support/sigcast-process.js';
import { waitFor } from '../support/wait.js';

/**
 * One port, one history: a second node on a taken port fails loudly (uWS used to share the port
 * silently, splitting clients over two histories with the memory broker), and REUSE_PORT=true
 * shares it on purpose between nodes of one Redis.
 */
describe('listening on a port', () => {
  let redis: RedisServerHandle;
  const processes: SigcastProcess[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function serve(env: Record<string, string>, port = 0): Promise<SigcastProcess> {
    const child = await startSigcastProcess({ REDIS_URL: redis.url, ...env }, port);
    processes.push(child);
    return child;
  }

  for (const transport of ['uws', 'ws'] as const) {
    it(`${transport}: a second node on a taken port stops with a message naming PORT, and the first one keeps serving`, async () => {
      const first = await serve({ TRANSPORT: transport });
      const second = await runCli(['serve'], { env: { REDIS_URL: redis.url, TRANSPORT: transport, HOST: '127.0.0.1', PORT: String(first.port), LOG_LEVEL: 'warn' } });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`PORT=${first.port}: 127.0.0.1:${first.port} is already in use by another process`);
      expect(second.stderr).toContain('REUSE_PORT=true');
      expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
    });
  }

  it('refuses REUSE_PORT with the embedded memory broker, where each process would have a history of its own', async () => {
    const result = await runCli(['serve', '--port', '0', '--reuse-port', 'true'], { env: { REDIS_URL: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('REUSE_PORT="true": needs REDIS_URL');
  });

  it('names HOST when it is not an address of this machine, and METRICS_PORT when it is taken', async () => {
    const result = await runCli(['serve', '--port', '0', '--host', '192.0.2.1'], { env: { REDIS_URL: redis.url, ALLOW_ANONYMOUS: 'true' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HOST="192.0.2.1": is not an address of this machine');
    const first = await serve({});
    const metrics = await runCli(['serve', '--port', '0', '--metrics-port', String(first.port)], { env: { REDIS_URL: redis.url } });
    expect(metrics.code).toBe(2);
    expect(metrics.stderr).toContain(`METRICS_PORT=${first.port}: 127.0.0.1:${first.port} is already in use by another process`);
  });

  it('REUSE_PORT=true: two uws nodes share the port, and every subscriber on either gets every entry, once and in order', async () => {
    const port = await freePort();
    const env = { REUSE_PORT: 'true', REDIS_KEY_PREFIX: 'share' };
    await serve({ ...env, NODE_ID: 'share-a' }, port);
    await serve({ ...env, NODE_ID: 'share-b' }, port);
    const url = `ws://127.0.0.1:${port}/v1/ws`;
    const byNode = new Map<string, TestClient[]>([['share-a', []], ['share-b', []]]);
    // The kernel spreads new connections over both processes: connect until each has some.
    for (let attempt = 0; attempt < 200 && [...byNode.values()].some((list) => list.length < 2); attempt += 1) {
      const client = await TestClient.connect(url);
      clients.push(client);
      const welcome = client.frames[0];
      byNode.get(welcome?.type === 'welcome' ? welcome.node : '')?.push(client);
    }
    expect([...byNode.values()].map((list) => list.length >= 2)).toEqual([true, true]);
    for (const client of clients) await client.subscribe('SHARED');
    // Publish half through a connection to each node: one history, seq 1..40.
    const [onA, onB] = [byNode.get('share-a')![0]!, byNode.get('share-b')![0]!];
    for (let i = 0; i < 20; i += 1) {
      for (const [publisher, name] of [[onA, 'a'], [onB, 'b']] as const) {
        const ack = await publisher.request({ op: 'publish', id: `${name}${i}`, signals: [{ symbol: 'SHARED', side: 'BUY', strength: 0.5, id: `${name}-${i}` }] });
        expect(ack.type).toBe('ack');
      }
    }
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const client of clients) {
      await waitFor(() => client.seqs('SHARED').length >= 40, 10_000, 'every entry on every subscriber');
      expect(client.seqs('SHARED')).toEqual(expected);
    }
  });

  it(`ws: REUSE_PORT=true ${nodeSharesPorts(process.versions.node) ? 'shares the port' : `is refused on Node ${process.versions.node}, naming REUSE_PORT and TRANSPORT`}`, async () => {
    const port = await freePort();
    const env = { REDIS_URL: redis.url, TRANSPORT: 'ws', REUSE_PORT: 'true', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' };
    if (!nodeSharesPorts(process.versions.node)) {
      const result = await runCli(['serve'], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('REUSE_PORT="true": needs TRANSPORT=uws on Node');
      return;
    }
    await serve({ TRANSPORT: 'ws', REUSE_PORT: 'true' }, port);
    await serve({ TRANSPORT: 'ws', REUSE_PORT: 'true' }, port);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });
});
