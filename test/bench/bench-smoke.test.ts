import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobResult } from '../../bench/scenarios/types.js';

/**
 * Keeps the bench tool working: a tiny fanout against sigcast alone (memory broker, no peers), in
 * each encoding (the load generator reads both from the frame bytes), checked for completeness and
 * for what the report says (never for speed).
 */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'sigcast-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench smoke', () => {
  it.each(['json', 'msgpack'])('runs a tiny fanout against sigcast in %s: everything delivered once', async (encoding) => {
    const dir = join(out, encoding);
    const args = ['--import', 'tsx', 'bench/run.ts', '--scenario', 'fanout', '--systems', 'sigcast', '--broker', 'memory', '--encoding', encoding, '--duration', '2', '--subscribers', '8', '--out', dir];
    const { stdout } = await run(process.execPath, args, { cwd: root, timeout: 90_000 });
    expect(stdout).toContain('fanout / sigcast');
    const file = readdirSync(dir).find((name) => name.startsWith('run-') && name.endsWith('.json'));
    expect(file).toBeDefined();
    const run0 = JSON.parse(readFileSync(join(dir, file ?? ''), 'utf8')) as { results: JobResult[] };
    const result = run0.results.find((r) => r.scenario === 'fanout' && r.system === 'sigcast');
    expect(result?.status, result?.reason).toBe('ok');
    expect(result?.deliveries ?? 0).toBeGreaterThan(0);
    expect(result?.completeness).toMatchObject({ subscriptions: 8, lost: 0, undelivered: 0, duplicated: 0, reordered: 0 });
    expect(result?.connections).toEqual({ opened: 8, failed: 0 });
    // The load generator's CPU is reported next to the server's, with how busy each part was.
    expect(result?.cpu?.loadUsPerDelivery).toBeGreaterThan(0);
    expect(result?.cpu?.busy).toMatchObject({ server: expect.any(Number), subscribers: expect.any(Number), machine: expect.any(Number) });
    expect(result?.cpu?.busy?.wallMs).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['latest.md', 'report.html']));
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('| load CPU us/delivery |');
  }, 120_000);
});
