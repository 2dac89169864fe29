import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { waitFor } from './wait.js';

/** The `sigcast` CLI as users run it: a real process (the source through tsx). */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawnCli(args, options.env);
  if (options.input !== undefined) child.process.stdin.end(options.input);
  return child.exited;
}

export interface RunningCli {
  readonly process: ChildProcessWithoutNullStreams;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<CliResult>;
  /** Waits until stdout (or stderr) satisfies the predicate. */
  waitFor(predicate: (output: { stdout: string; stderr: string }) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...env } });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, ...output })));
  return {
    process: child,
    output,
    exited,
    waitFor: (predicate, what, timeoutMs = 20_000) =>
      waitFor(() => predicate(output), timeoutMs, what, 25).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout (end):\n${output.stdout.slice(-2000)}\nstderr (end):\n${output.stderr.slice(-2000)}`);
      }),
  };
}
