// `sigcast serve` as a real process (the CLI through tsx), for tests that kill or restart a
// server and for `npm run cluster:local`: resolves once it logged "listening", with the port it
// listens on. Killed with the test process (setpriv --pdeathsig where it exists, else at exit).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { killAtExit } from './leftovers.js';

export interface SigcastProcess {
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly child: ChildProcess;
  /** NODE_ID, when given ('' otherwise). */
  readonly name: string;
  /** False once the process exited. */
  readonly running: boolean;
  /** Everything it wrote to stdout and stderr so far (the newest 1 MB). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const KEPT_OUTPUT = 1024 * 1024;
const START_TIMEOUT_MS = 60_000;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Test workers are often killed rather than exited: the kernel then SIGKILLs the node too. */
const LAUNCHER: string[] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', process.execPath] : [process.execPath];

export async function startSigcastProcess(env: Record<string, string> = {}, port = 0): Promise<SigcastProcess> {
  const [command = process.execPath, ...launcherArgs] = LAUNCHER;
  const child = spawn(command, [...launcherArgs, '--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killAtExit(child);
  // 'close', not 'exit': only then has everything the child wrote been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Always read (so the child never blocks on a full pipe) and kept, for tests that check the logs.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-KEPT_OUTPUT));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sigcast did not listen within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = () => {
      const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sigcast exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    port: listening,
    baseUrl: `http://127.0.0.1:${listening}`,
    wsUrl: `ws://127.0.0.1:${listening}/v1/ws`,
    child,
    name: env.NODE_ID ?? '',
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A port that was free a moment ago (for a server that must come back on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
