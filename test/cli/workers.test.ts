import { afterEach, describe, expect, it } from 'vitest';
import { restartDelayMs, workerArgs } from '../../src/cli/workers.js';
import { spawnCli, type RunningCli } from '../support/cli.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { TestClient } from '../support/sigcast.js';
import { freePort } from '../support/sigcast-process.js';
import { delay, waitFor } from '../support/wait.js';

describe('serve --workers (pure parts)', () => {
  it('starts each worker as one node of N on the shared port', () => {
    const command = { script: 'bin/sigcast.js', execArgv: [], args: ['--port', '9000', '--workers', '4', '--reuse-port=false', '--redis-url', 'redis://h'], env: { NODE_ID: 'hub', PATH: '/bin' } };
    expect(workerArgs(command, 2)).toEqual({
      args: ['--port', '9000', '--redis-url', 'redis://h'],
      env: { NODE_ID: 'hub-2', PATH: '/bin', WORKERS: '1', REUSE_PORT: 'true' },
    });
    expect(workerArgs({ ...command, env: {} }, 1).env).toEqual({ WORKERS: '1', REUSE_PORT: 'true' });
  });

  it('restarts a worker that ran a while at once, one that keeps dying with a doubling delay', () => {
    expect(restartDelayMs(60_000, 0)).toBe(0);
    expect([1, 2, 3, 4, 10].map((deaths) => restartDelayMs(100, deaths))).toEqual([500, 1000, 2000, 4000, 30_000]);
  });
});

describe('sigcast serve --workers N', () => {
  let redis: RedisServerHandle | undefined;
  let supervisor: RunningCli | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    // Workers stop by themselves when their supervisor is gone (the IPC channel closes).
    supervisor?.process.kill('SIGKILL');
    for (const pid of workerPids(supervisor)) await waitFor(() => !alive(pid), 10_000, `worker ${pid} to exit`).catch(() => process.kill(pid, 'SIGKILL'));
    supervisor = undefined;
    await redis?.stop();
  });

  it('runs N nodes on one port, restarts one that dies, and forwards the shutdown (a second signal ignored)', async () => {
    redis = await startRedisServer();
    const port = await freePort();
    supervisor = spawnCli(['serve', '--workers', '2', '--port', String(port)], { REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_COMMAND_TIMEOUT_MS: '20000' });
    const running = supervisor;
    await running.waitFor(({ stdout }) => stdout.includes('"msg":"all workers listening"'), 'both workers to listen');
    const [first, second] = workerPids(running);
    expect(first).toBeDefined();
    expect(second).toBeDefined();

    // Both take connections (the kernel spreads them over the two processes).
    const nodes = new Set<string>();
    for (let attempt = 0; attempt < 100 && nodes.size < 2; attempt += 1) {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/v1/ws`);
      clients.push(client);
      const welcome = client.frames[0];
      if (welcome?.type === 'welcome') nodes.add(welcome.node);
    }
    expect(nodes.size).toBe(2);

    process.kill(first!, 'SIGKILL');
    await running.waitFor(({ stdout }) => stdout.includes('"msg":"worker died: restarting it"'), 'the supervisor to see the death');
    await waitFor(() => workerPids(running).length === 3, 20_000, 'a new worker for the dead one');
    await running.waitFor(({ stdout }) => (stdout.match(/"msg":"worker listening"/g) ?? []).length === 3, 'the new worker to listen');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // A publish held in flight by a frozen Redis keeps a worker's shutdown busy, so that the
    // second signal lands while the supervisor waits for it.
    redis.pause();
    const held = fetch(`http://127.0.0.1:${port}/v1/signals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'W', side: 'BUY', strength: 1 }) });
    await delay(300);
    running.process.kill('SIGTERM');
    await delay(100);
    const secondLanded = running.process.exitCode === null;
    running.process.kill('SIGTERM');
    await delay(200);
    redis.resume();
    expect((await held).status).toBe(200);
    const result = await running.exited;
    expect(secondLanded).toBe(true);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('second signal during shutdown: ignored while the workers stop');
    expect((result.stdout.match(/"msg":"worker stopped"/g) ?? []).length).toBe(2);
    for (const pid of workerPids(running).slice(1)) expect(alive(pid)).toBe(false);
  });

  it('stops at once when a worker cannot start, with the worker saying why', async () => {
    redis = await startRedisServer();
    const port = await freePort();
    const blocker = spawnCli(['serve', '--port', String(port)], { REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    await blocker.waitFor(({ stdout }) => stdout.includes('"msg":"listening"'), 'the node holding the port');
    try {
      supervisor = spawnCli(['serve', '--workers', '2', '--port', String(port)], { REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'info' });
      const result = await supervisor.exited;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`PORT=${port}: 127.0.0.1:${port} is held by a process that does not share it`);
      expect(result.stdout).toContain('worker exited before listening: stopping every worker');
    } finally {
      blocker.process.kill('SIGTERM');
      await blocker.exited;
    }
  });
});

/** Worker pids in the order the supervisor started them (from its log). */
function workerPids(cli: RunningCli | undefined): number[] {
  if (!cli) return [];
  return [...cli.output.stdout.matchAll(/"workerPid":(\d+)[^\n]*"msg":"worker started"/g)].map((match) => Number(match[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
