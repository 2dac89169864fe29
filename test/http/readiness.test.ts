import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readiness } from '../../src/http/readiness.js';
import { startRedisServer } from '../support/redis-server.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

const up = { ok: true, latencyMs: 0.2 };

describe('readiness (pure)', () => {
  it('is ready only with the broker up, its subscriptions in place, every channel in sync, and not closing', () => {
    expect(readiness({ closing: false, broker: up, resyncing: [] })).toEqual({ status: 200, body: { status: 'ready', broker: up, closing: false } });
  });

  it('says why it is not, in order of what matters most', () => {
    const down = { ok: false, failing: 'connection' as const, detail: 'Redis is not connected (command connection: reconnecting)' };
    const live = { ok: false, failing: 'subscriptions' as const, detail: 'Redis live subscriptions not in place (subscriber connection: connecting)' };
    const cases = [
      { state: { closing: true, broker: down, resyncing: ['A'] }, reason: 'shutting_down', message: 'this node is shutting down; use another node' },
      { state: { closing: false, broker: down, resyncing: ['A'] }, reason: 'broker_unavailable', message: `storage is unavailable: ${down.detail}` },
      { state: { closing: false, broker: live, resyncing: [] }, reason: 'subscriptions_down', message: `live announcements are not reaching this node: ${live.detail}` },
      { state: { closing: false, broker: up, resyncing: ['A'] }, reason: 'resyncing', message: '1 channel is re-reading history after a gap or a reconnect' },
    ];
    for (const { state, reason, message } of cases) {
      const answer = readiness(state);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: 'not_ready', reason, message, closing: state.closing });
    }
  });

  it('names at most ten re-syncing channels, and counts them all', () => {
    const channels = Array.from({ length: 25 }, (_, i) => `C${i}`);
    const answer = readiness({ closing: false, broker: up, resyncing: channels });
    expect(answer.body.resyncing).toEqual({ count: 25, channels: channels.slice(0, 10) });
    expect(answer.body.message).toBe('25 channels are re-reading history after a gap or a reconnect');
  });
});

describe('/readyz on a node', () => {
  it('fails while Redis is away, and while the node shuts down', async () => {
    const redis = await startRedisServer();
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_RETRY_BASE_MS: '20', REDIS_RETRY_MAX_MS: '100', REDIS_COMMAND_TIMEOUT_MS: '20000' });
    // One kept-alive connection: it can still ask once the node stopped accepting new ones.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const readyz = () => get(agent, `${node.baseUrl}/readyz`);
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready' } });

    await redis.stop();
    await waitFor(async () => (await readyz()).status === 503, 5000, '/readyz to fail');
    expect((await readyz()).body).toMatchObject({ reason: 'broker_unavailable', broker: { ok: false, failing: 'connection' } });
    await redis.restart();
    await waitFor(async () => (await readyz()).status === 200, 10_000, '/readyz to recover');

    // Shutdown with a publish held in flight (Redis frozen): readiness fails at once.
    redis.pause();
    const held = postSignals(node.baseUrl, signal('READY'));
    await waitFor(async () => node.metrics.ingestInFlight.get().then((metric) => metric.values[0]?.value === 1), 5000, 'the publish in flight');
    const stopping = node.stop();
    expect(await readyz()).toMatchObject({ status: 503, body: { reason: 'shutting_down', closing: true } });
    redis.resume();
    expect((await held).status).toBe(200);
    await stopping;
    agent.destroy();
    await redis.stop();
  });
});

function get(agent: Agent, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    })
      .on('error', reject)
      .end();
  });
}
