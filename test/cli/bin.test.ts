import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnCli } from '../support/cli.js';

const root = new URL('../../', import.meta.url).pathname;

/**
 * bin/sigcast.js in a scratch package: a src/cli.ts and a dist/src/cli.js that each say which one
 * ran (and what the launcher handed over), with modification times set per case.
 */
function scratchPackage(): { dir: string; run(): Promise<string>; touch(path: string, secondsAgo: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sigcast-bin-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  copyFileSync(join(root, 'bin', 'sigcast.js'), join(dir, 'bin', 'sigcast.js'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const report = (name: string) => `process.stdout.write(JSON.stringify({ ran: '${name}', launch: globalThis[Symbol.for('sigcast.launch')] }));\n`;
  writeFileSync(join(dir, 'src', 'cli.ts'), report('source'));
  writeFileSync(join(dir, 'src', 'deep', 'other.ts'), 'export {};\n');
  return {
    dir,
    run: () =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [join(dir, 'bin', 'sigcast.js')], { cwd: dir });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('close', () => resolve(stdout));
      }),
    touch: (path, secondsAgo) => {
      const time = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(join(dir, path), time, time);
    },
  };
}

describe('bin/sigcast.js runs what matches the source', () => {
  it('runs the source through tsx when nothing is built', async () => {
    const pkg = scratchPackage();
    expect(JSON.parse(await pkg.run())).toEqual({ ran: 'source', launch: { runs: 'source', why: 'dist/ is not built' } });
  });

  it('runs dist/ only while it is newer than every file under src/', async () => {
    const pkg = scratchPackage();
    mkdirSync(join(pkg.dir, 'dist', 'src'), { recursive: true });
    writeFileSync(join(pkg.dir, 'dist', 'src', 'cli.js'), "process.stdout.write(JSON.stringify({ ran: 'dist', launch: globalThis[Symbol.for('sigcast.launch')] }));\n");
    pkg.touch('src/cli.ts', 60);
    pkg.touch('src/deep/other.ts', 60);
    pkg.touch('dist/src/cli.js', 10);
    expect(JSON.parse(await pkg.run())).toEqual({ ran: 'dist', launch: { runs: 'dist', why: 'dist/ is newer than every file under src/' } });

    // An edit after the build, even deep in src/: the build is stale, the source runs.
    pkg.touch('src/deep/other.ts', 0);
    expect(JSON.parse(await pkg.run())).toEqual({ ran: 'source', launch: { runs: 'source', why: 'a file under src/ changed after the last build' } });
  });

  it('says which one runs at start under LOG_LEVEL=debug', async () => {
    const cli = spawnCli(['serve', '--port', '0'], { LOG_LEVEL: 'debug', REDIS_URL: '' });
    onTestFinished(() => void cli.process.kill('SIGKILL'));
    // The test harness runs src/cli.ts directly (no launcher), which it says too.
    await cli.waitFor(({ stdout }) => stdout.includes('"msg":"sigcast runs src/cli directly (not through bin/sigcast.js)"'), 'the launch line');
    const viaBin = spawn(process.execPath, [join(root, 'bin', 'sigcast.js'), 'serve', '--port', '0'], { env: { ...process.env, LOG_LEVEL: 'debug', REDIS_URL: '' } });
    onTestFinished(() => void viaBin.kill('SIGKILL'));
    const line = await new Promise<string>((resolve) => {
      let stdout = '';
      viaBin.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = stdout.split('\n').find((candidate) => candidate.includes('"msg":"sigcast runs '));
        if (found) resolve(found);
      });
    });
    expect(JSON.parse(line)).toMatchObject({ level: 20, runs: expect.stringMatching(/^(source|dist)$/), why: expect.any(String) });
  });
});
