import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { TestClient } from './support/sigcast.js';
import { startSigcastProcess, type SigcastProcess } from './support/sigcast-process.js';
import { waitFor } from './support/wait.js';

type LogLine = Record<string, unknown> & { msg?: string };

function lines(child: SigcastProcess): LogLine[] {
  return child
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('logs', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(env: Record<string, string>): Promise<SigcastProcess> {
    const child = await startSigcastProcess({ LOG_LEVEL: 'debug', ...env });
    cleanups.push(() => child.stop('SIGKILL'));
    return child;
  }

  it('carry the request id (X-Request-Id when given) on every ingest line, and echo it in the answer', async () => {
    const node = await serve({ REDIS_URL: '' });
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${node.baseUrl}/v1/signals`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    const given = await post({ symbol: 'LOG', side: 'BUY', strength: 1 }, { 'x-request-id': 'bot7-req-42' });
    expect(given.headers.get('x-request-id')).toBe('bot7-req-42');
    const made = await post({ symbol: 'LOG', side: 'BUY', strength: 1 });
    const madeId = made.headers.get('x-request-id')!;
    expect(madeId).toMatch(/^[0-9a-f]{16}$/);
    // A header that is not a short printable token is not echoed into the logs: a fresh id instead.
    const forged = await post({ symbol: 'LOG', side: 'BUY', strength: 1 }, { 'x-request-id': 'x'.repeat(500) });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    const refused = await post({ symbol: 'LOG', side: 'UP', strength: 9 }, { 'x-request-id': 'bad-1' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('x-request-id')).toBe('bad-1');
    const socket = await TestClient.connect(node.wsUrl);
    cleanups.push(() => socket.close());
    expect((await socket.request({ op: 'publish', id: 'frame-9', signals: [{ symbol: 'LOG', side: 'SELL', strength: 1 }] })).type).toBe('ack');

    await waitFor(() => lines(node).filter((line) => line.msg === 'published' || line.msg === 'publish refused').length === 5, 5000, 'the ingest log lines');
    const ingest = lines(node).filter((line) => line.msg === 'published' || line.msg === 'publish refused');
    expect(ingest.every((line) => typeof line.reqId === 'string' && line.reqId !== '')).toBe(true);
    expect(ingest.map((line) => line.reqId)).toEqual(expect.arrayContaining(['bot7-req-42', madeId, 'bad-1', expect.stringMatching(/^ws\d+:frame-9$/)]));
    expect(ingest.find((line) => line.reqId === 'bad-1')).toMatchObject({ msg: 'publish refused', code: 'invalid_signal', via: 'http' });
    expect(node.output()).not.toContain('x'.repeat(200));
  });

  it('never carry a Redis password or a token', async () => {
    const redis: RedisServerHandle = await startRedisServer({ requirePass: 'right-pass-123' });
    cleanups.push(() => redis.stop());
    // A wrong password: ioredis's error names the failed AUTH command with its arguments.
    const node = await serve({ REDIS_URL: `redis://:wrong-pass-456@127.0.0.1:${redis.port}`, REDIS_COMMAND_TIMEOUT_MS: '200' });
    await waitFor(() => lines(node).some((line) => line.problem === 'credentials'), 5000, 'the credentials warning');
    await fetch(`${node.baseUrl}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok-secret-789', 'x-request-id': 'with-token' },
      body: JSON.stringify({ symbol: 'LOG', side: 'BUY', strength: 1 }),
    });
    await waitFor(() => lines(node).some((line) => line.reqId === 'with-token'), 5000, 'the refused publish');
    const output = node.output();
    expect(output).toContain('Redis rejected the credentials');
    expect(output).not.toContain('wrong-pass-456');
    expect(output).not.toContain('right-pass-123');
    expect(output).not.toContain('tok-secret-789');
  });
});
