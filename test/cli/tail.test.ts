import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, type RunningCli } from '../support/cli.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';
import { freePort } from '../support/sigcast-process.js';

/** `sigcast tail` as a process against running nodes. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tail(args: string[]): RunningCli {
  const child = spawnCli(['tail', ...args]);
  cleanups.push(async () => {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await child.exited;
  });
  return child;
}

const jsonLines = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { channel: string; seq: number; epoch: string; signal: { side: string } });

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('sigcast tail', () => {
  it('prints the replay then live signals of several channels as JSON lines, and exits 0 on Ctrl-C', async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    await postSignals(node.baseUrl, [signal('BTCUSDT'), signal('ETHUSDT', { side: 'SELL' }), signal('BTCUSDT', { side: 'CLOSE' })]);
    const child = tail(['BTCUSDT', 'ETHUSDT', '--last', '10', '--json', '--url', node.baseUrl]);
    await child.waitFor((output) => jsonLines(output.stdout).length === 3, 'the replay');
    await child.waitFor((output) => (output.stderr.match(/live at seq/g) ?? []).length === 2, 'both channels live');
    await postSignals(node.baseUrl, [signal('ETHUSDT', { side: 'HOLD', price: 3100.25 })]);
    await child.waitFor((output) => jsonLines(output.stdout).length === 4, 'the live signal');

    child.process.kill('SIGINT');
    const result = await child.exited;
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.filter((entry) => entry.channel === 'BTCUSDT').map((entry) => [entry.seq, entry.signal.side])).toEqual([[1, 'BUY'], [2, 'CLOSE']]);
    expect(lines.filter((entry) => entry.channel === 'ETHUSDT').map((entry) => [entry.seq, entry.signal.side])).toEqual([[1, 'SELL'], [2, 'HOLD']]);
    expect(lines[3]).toMatchObject({ channel: 'ETHUSDT', seq: 2, signal: { price: 3100.25, symbol: 'ETHUSDT' } });
    expect(Object.keys(lines[0]!).sort()).toEqual(['channel', 'epoch', 'seq', 'signal', 'ts']);
    expect(result.stderr).toContain(`connected to ws://127.0.0.1:${node.port}/v1/ws`);
  });

  it('prints readable lines, and starts after --since N within --epoch E', async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    const stored = await postSignals(node.baseUrl, [1, 2, 3, 4].map((n) => signal('SOLUSDT', { strength: n / 4, price: 150 + n, strategy: 'momentum' })));
    const epoch = stored.body.entries[0].epoch as string;
    const child = tail(['SOLUSDT', '--since', '2', '--epoch', epoch, '--url', node.wsUrl]);
    await child.waitFor((output) => output.stdout.includes('SOLUSDT#4'), 'entries 3 and 4');
    child.process.kill('SIGTERM');
    const result = await child.exited;
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}SOLUSDT#3 {2}BUY {4}0\.75 {2}SOLUSDT {2}@153 {2}momentum$/);
    expect(lines[1]).toContain('SOLUSDT#4');
  });

  it('resumes by itself after its server restarts, printing every signal once, in order', async () => {
    const port = await freePort();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'cli-tail-resume' };
    let serving = await startTestNode({ ...env, PORT: String(port) });
    const ingest = await startTestNode(env);
    cleanups.push(() => ingest.stop());
    const channel = 'tail.resume';
    const publish = (count: number) => postSignals(ingest.baseUrl, Array.from({ length: count }, () => signal('BTCUSDT', { channels: [channel] })));
    await publish(5);
    const child = tail([channel, '--since', '0', '--json', '--url', serving.baseUrl]);
    await child.waitFor((output) => jsonLines(output.stdout).length === 5, 'the first five');
    await serving.stop();
    await publish(5); // while tail has no server
    serving = await startTestNode({ ...env, PORT: String(port) });
    cleanups.push(() => serving.stop());
    await child.waitFor((output) => (output.stderr.match(/live at seq/g) ?? []).length === 2, 'the re-subscription');
    await publish(5);
    await child.waitFor((output) => jsonLines(output.stdout).length >= 15, 'all fifteen');
    child.process.kill('SIGINT');
    const result = await child.exited;
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((entry) => entry.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(result.stderr).toMatch(/disconnected \(1001 server shutting down\), reconnecting in \d+ ms/);
    expect(result.stderr).not.toContain('reset');
  });

  it('refuses a bad command line with status 2 and says why', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'name at least one channel'],
      [['BTCUSDT', '--since', '3', '--last', '3'], 'give --since or --last, not both'],
      [['BTCUSDT', '--epoch', 'abc'], '--epoch needs --since'],
      [['BTCUSDT', '--last', '5000'], '--last must be an integer from 0 to 1000'],
      [['bad channel!'], 'invalid channel "bad channel!"'],
      [['BTCUSDT', '--colour'], "Unknown option '--colour'"],
      [['BTCUSDT', '--url', 'ftp://x'], '--url must be http(s):// or ws(s)://'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['tail', ...args]);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('sigcast tail --help');
    }
  });

  it('exits 1 when the server refuses every channel', async () => {
    const node = await startTestNode();
    cleanups.push(() => node.stop());
    // The server conflates at 10 ms at the finest: it refuses 5.
    const result = await runCli(['tail', 'BTCUSDT', '--conflate', '5', '--url', node.baseUrl]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/BTCUSDT: refused by the server: invalid_frame: .*conflate/);
  });
});
