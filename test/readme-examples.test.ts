import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from './support/sigcast.js';

/**
 * The README's ```ts runnable examples run as they are written (against a node on a free port
 * instead of 8080) and must exit by themselves, with status 0.
 */
const ROOT = resolve(import.meta.dirname, '..');
const WORK = join(ROOT, 'test-artifacts', 'readme-examples');

function runnableExamples(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```ts runnable\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => (clearTimeout(timer), done({ code, stdout, stderr })));
  });
}

describe('README examples', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  beforeAll(async () => {
    node = await startTestNode();
    mkdirSync(WORK, { recursive: true });
  });
  afterAll(() => node?.stop());

  const examples = runnableExamples('README.md');
  it('has the subscriber and the publisher examples', () => {
    expect(examples).toHaveLength(2);
  });

  it.each(examples.map((source, index) => [index, source] as const))('example %i runs and exits by itself', async (index, source) => {
    const file = join(WORK, `example-${index}.ts`);
    const code = source.replaceAll('127.0.0.1:8080', `127.0.0.1:${node.port}`).replaceAll("'./clients/", `'${join(ROOT, 'clients')}/`);
    writeFileSync(file, code);
    const result = await run(file);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    if (source.includes('createPublisher')) {
      expect(result.stdout).toMatch(/^ETHUSDT#1 id=\w{26}\nETHUSDT#2 id=\w{26}\nETHUSDT#3 id=\w{26}\n$/);
    } else {
      const seq = /published as seq (\d+)/.exec(result.stdout)?.[1];
      expect(seq).toBeDefined();
      expect(result.stdout).toContain(`BTCUSDT#${seq} BUY 0.8`);
    }
  });
});
