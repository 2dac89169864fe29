import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The CLI as users run it: a real process. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sigcast CLI', () => {
  it('explains a bad configuration and exits 2', async () => {
    const result = await runCli(['serve', '--port', 'eighty'], { HISTORY_SIZE: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT="eighty"');
    expect(result.stderr).toContain('HISTORY_SIZE="0"');
  });

  it('is installed as the `sigcast` bin, which runs the source when nothing is built', async () => {
    const help = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/sigcast.js', '--help']);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: sigcast serve');
    expect(help.stdout).toContain('REDIS_URL');
  });

  it('refuses to run on the uWebSockets.js JavaScript emulation, loudly, unless allowed', async () => {
    // UWS_USE_FALLBACK makes the republished uWS package load its emulation instead of the binary.
    const refused = await runCli(['serve', '--port', '0'], { UWS_USE_FALLBACK: '1' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refuses to run on its slow JavaScript emulation');
    expect(refused.stderr).toContain('TRANSPORT=ws');

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--uws-allow-fallback', 'true'], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"msg":"listening"')) resolve();
      });
      child.on('close', () => reject(new Error(`exited early: ${output}`)));
    });
    expect(output).toContain('uWebSockets.js runs on its slow JavaScript emulation');
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('rejects unknown flags and commands', async () => {
    expect((await runCli(['serve', '--colour', 'red'])).stderr).toContain('unknown flag --colour');
    expect((await runCli(['launch'])).code).toBe(2);
  });

  it('serves, then shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0']);
    const port = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const match = /"port":(\d+).*"msg":"listening"/.exec(buffer);
        if (match) resolve(Number(match[1]));
      });
      child.on('close', () => reject(new Error(`exited early: ${buffer}`)));
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
