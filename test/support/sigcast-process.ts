import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/**
 * `sigcast serve` as a real process (the CLI through tsx), for tests that kill or restart a
 * server: resolves once it logged "listening", with the port it listens on.
 */
export interface SigcastProcess {
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far (the newest 1 MB). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const KEPT_OUTPUT = 1024 * 1024;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startSigcastProcess(env: Record<string, string> = {}, port = 0): Promise<SigcastProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  // 'close', not 'exit': only then has everything the child wrote been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => (running.delete(child), resolve(code))));
  // Always read (so the child never blocks on a full pipe) and kept, for tests that check the logs.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-KEPT_OUTPUT));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const listening = await new Promise<number>((resolve, reject) => {
    const onData = () => {
      const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`sigcast exited (${code}) before listening:\n${output}`)));
  });
  return {
    port: listening,
    baseUrl: `http://127.0.0.1:${listening}`,
    wsUrl: `ws://127.0.0.1:${listening}/v1/ws`,
    child,
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
