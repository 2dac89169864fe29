// One redis-server process for tests: on a free loopback port (never the shared Redis on 6379), in
// its own temp dir, stopped, killed, paused and restarted on demand, killed when the test process
// exits. What it is configured as (standalone, a cluster node) is the caller's `args`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { killAtExit, scratchDir } from './leftovers.js';
import type { TestCertificates } from './throwaway-ca.js';

export const REDIS_BINARY = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
/**
 * Test workers are often killed rather than exited (vitest's fork pool), so 'exit' hooks do not
 * run: where util-linux setpriv exists, the kernel SIGKILLs redis-server when its parent dies.
 */
const LAUNCHER: string[] = existsSync('/usr/bin/setpriv')
  ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', REDIS_BINARY]
  : [REDIS_BINARY];
const SHARED_REDIS_PORT = 6379;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface RedisProcessOptions {
  /** redis-server arguments after the port, bind address, dir and TLS files (later ones win). */
  args: string[];
  /** TLS only (the plain port is off), with the server certificate of these. */
  certificates?: TestCertificates;
  /** This port instead of a free one (`npm run cluster:local --base-port`). */
  port?: number;
}

export interface RedisProcess {
  /** The port clients use: the TLS port when started with certificates. */
  readonly port: number;
  /** Working dir (AOF files live here when persistence is on). */
  readonly dir: string;
  /** The server's process id; undefined while it is stopped. */
  readonly pid: number | undefined;
  /** Graceful shutdown (SIGTERM); safe to call twice or when already stopped. */
  stop(): Promise<void>;
  /** SIGKILL: what was not persisted is lost. */
  kill(): Promise<void>;
  /** Starts again on the same port and dir (stopping first if still running). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that keeps its connections open but never answers. */
  pause(): void;
  resume(): void;
}

class BindError extends Error {}

export async function startRedisProcess(options: RedisProcessOptions): Promise<RedisProcess> {
  const dir = scratchDir();
  const tls = options.certificates
    ? ['--tls-cert-file', options.certificates.certFile, '--tls-key-file', options.certificates.keyFile, '--tls-ca-cert-file', options.certificates.caFile, '--tls-auth-clients', 'no']
    : [];
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', ...tls, '--daemonize', 'no', ...options.args];
  const withTls = options.certificates !== undefined;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return new Process(port, dir, args, withTls, await spawnServer(port, args, withTls));
    } catch (error) {
      // Another process took the port between our probe and the server's bind: pick another.
      if (!(error instanceof BindError) || attempt >= 5 || options.port !== undefined) throw error;
    }
  }
}

class Process implements RedisProcess {
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private readonly tls: boolean,
    private child: ChildProcess | undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  stop(): Promise<void> {
    return this.terminate('SIGTERM');
  }

  kill(): Promise<void> {
    return this.terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    for (let attempt = 1; ; attempt++) {
      try {
        this.child = await spawnServer(this.port, this.args, this.tls);
        return;
      } catch (error) {
        if (!(error instanceof BindError) || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // a paused server cannot handle SIGTERM
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago (the OS picks it); the caller retries if it is taken since. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (port !== SHARED_REDIS_PORT) return port;
  }
}

/**
 * Spawns redis-server and resolves once it logs that it accepts connections (after loading the
 * AOF). With `tls` the port is the TLS port and the plain one is off.
 */
function spawnServer(port: number, args: string[], tls: boolean): Promise<ChildProcess> {
  if (port === SHARED_REDIS_PORT) throw new Error('refusing to touch the shared Redis on 6379');
  const [command = REDIS_BINARY, ...launcherArgs] = LAUNCHER;
  const listen = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child = spawn(command, [...launcherArgs, ...listen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  killAtExit(child);
  let output = '';
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8192);
      // Our own process saying so: a PING could be answered by whoever else holds the port.
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onOutput);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const message = `redis-server on port ${port} exited (${code ?? signal}):\n${output}`;
      reject(output.includes('Address already in use') ? new BindError(message) : new Error(message));
    });
  });
}
