import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { cleanupsPerTest, nodePerTest } from '../support/cleanups.js';

/** `sigcast publish` as a process against a running node. */
const cleanups = cleanupsPerTest();
const node = nodePerTest(cleanups);

async function history(baseUrl: string, channel: string) {
  const response = await fetch(`${baseUrl}/v1/channels/${channel}/history?last=1000`);
  return (await response.json()) as { headSeq: number; entries: Array<{ seq: number; signal: Record<string, unknown> }> };
}

describe('sigcast publish', () => {
  it('publishes one signal from flags and prints its seq', async () => {
    const server = await node();
    const flags = ['--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', '0.8', '--price', '64250.5', '--strategy', 'momentum', '--meta', 'reason=breakout', '--meta', 'z=1.5'];
    const first = await runCli(['publish', ...flags, '--url', server.baseUrl]);
    expect(first).toMatchObject({ code: 0, stdout: 'BTCUSDT#1\n' });
    const second = await runCli(['publish', '--symbol', 'BTCUSDT', '--side', 'SELL', '--strength', '1', '--channel', 'desk.a', '--channel', 'desk.b', '--id', 'cli-1', '--url', server.baseUrl]);
    expect(second).toMatchObject({ code: 0, stdout: 'desk.a#1 desk.b#1\n' });
    const page = await history(server.baseUrl, 'BTCUSDT');
    expect(page.entries[0]!.signal).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', strength: 0.8, price: 64250.5, strategy: 'momentum', meta: { reason: 'breakout', z: 1.5 } });
    expect((await history(server.baseUrl, 'desk.b')).entries[0]!.signal).toMatchObject({ side: 'SELL', id: 'cli-1' });
  });

  it('pipes 100,000 JSON lines through the batching publisher and prints every seq in input order', { timeout: 120_000 }, async () => {
    const server = await node();
    const total = 100_000;
    const lines = Array.from({ length: total }, (_, i) => JSON.stringify({ symbol: `S${i % 100}`, side: i % 2 ? 'BUY' : 'SELL', strength: (i % 10) / 10 }));
    const result = await runCli(['publish', '--url', server.baseUrl], { input: `${lines.join('\n')}\n` });
    expect(result.code).toBe(0);
    const printed = result.stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(total);
    // Line i went to channel S(i % 100) as its (i / 100 + 1)-th signal.
    const wrong = printed.findIndex((line, i) => line !== `S${i % 100}#${Math.floor(i / 100) + 1}`);
    expect(wrong).toBe(-1);
    const summary = /(\d+) of (\d+) signals stored in (\d+) requests/.exec(result.stderr);
    expect(summary?.slice(1, 3)).toEqual([String(total), String(total)]);
    // Batched: at least 50 signals per request on average (the default batch is 500).
    expect(Number(summary![3])).toBeLessThanOrEqual(total / 50);
    expect((await history(server.baseUrl, 'S7')).headSeq).toBe(1_000);
  });

  it('reports bad lines by number, stores the others, and exits 1', async () => {
    const server = await node();
    const input = ['{"symbol":"ETHUSDT","side":"SELL","strength":0.3}', 'not json', '{"symbol":"ETHUSDT","side":"MAYBE","strength":0.3}', '', '{"symbol":"ETHUSDT","side":"HOLD","strength":1}'].join('\n');
    const result = await runCli(['publish', '--url', server.baseUrl, '--json'], { input });
    expect(result.code).toBe(1);
    const printed = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(printed).toEqual([
      expect.objectContaining({ channel: 'ETHUSDT', seq: 1, duplicate: false, id: expect.any(String), epoch: expect.any(String) }),
      expect.objectContaining({ channel: 'ETHUSDT', seq: 2 }),
    ]);
    expect(result.stderr).toContain('line 2: not JSON');
    expect(result.stderr).toMatch(/line 3: invalid signal: side: /);
    expect(result.stderr).toContain('2 of 4 signals stored');
  });

  it('publishes over a WebSocket with --transport ws', async () => {
    const server = await node();
    const input = '{"symbol":"XRPUSDT","side":"BUY","strength":0.1}\n{"symbol":"XRPUSDT","side":"CLOSE","strength":0.9}\n';
    const result = await runCli(['publish', '--transport', 'ws', '--url', server.wsUrl], { input });
    expect(result).toMatchObject({ code: 0, stdout: 'XRPUSDT#1\nXRPUSDT#2\n' });
  });

  it('exits 1 with the reason when the server stays unreachable for --retry-for', async () => {
    const server = await node();
    const url = server.baseUrl;
    await server.stop();
    const result = await runCli(['publish', '--url', url, '--retry-for', '300', '--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', '1']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/not stored: network_error: POST http:\/\/127\.0\.0\.1:\d+\/v1\/signals failed/);
  });

  it('refuses a bad command line with status 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--side', 'BUY'], '--side needs --symbol'],
      [['--symbol', 'BTCUSDT', '--side', 'UP', '--strength', '1'], '--side: Invalid option'],
      [['--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', '2'], '--strength: Too big'],
      [['--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', 'high'], '--strength must be a number'],
      [['--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', '1', '--meta', 'novalue'], '--meta takes KEY=VALUE'],
      [['--symbol', 'BTCUSDT', '--side', 'BUY', '--strength', '1', '--transport', 'smoke'], '--transport must be http or ws'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['publish', ...args]);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
    }
  });
});
