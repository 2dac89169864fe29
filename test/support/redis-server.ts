import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Real redis-server processes for tests: each on a free loopback port, in its own temp dir, killed
 * when the test process exits. Never the shared Redis on 6379.
 */
export interface RedisServerHandle {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** Working dir (AOF files live here when persistence is on). */
  readonly dir: string;
  /** Graceful shutdown (SIGTERM); safe to call twice or when already stopped. */
  stop(): Promise<void>;
  /** SIGKILL: what was not persisted is lost. */
  kill(): Promise<void>;
  /** Starts again on the same port and dir (stopping first if still running). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that keeps its connections open but never answers. */
  pause(): void;
  resume(): void;
  /** A fresh client for assertions; the test must quit it. */
  client(): Redis;
}

export interface RedisServerOptions {
  /** appendonly with fsync on every write, so even SIGKILL loses nothing. Default false. */
  persistence?: boolean;
  /** Extra redis-server arguments. */
  args?: string[];
}

const BINARY = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
/**
 * Test workers are often killed rather than exited (vitest's fork pool), so 'exit' hooks do not
 * run: where util-linux setpriv exists, the kernel SIGKILLs redis-server when its parent dies.
 */
const LAUNCHER: string[] = existsSync('/usr/bin/setpriv')
  ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', BINARY]
  : [BINARY];
const DIR_PREFIX = 'sigcast-redis-';
const SHARED_REDIS_PORT = 6379;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: signal the children and remove their dirs.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  removeDirsOfDeadProcesses();
}

/** Dirs are named after the test process; those of processes that died without cleaning up go. */
function removeDirsOfDeadProcesses(): void {
  const pattern = new RegExp(`^${DIR_PREFIX}(\\d+)-`);
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class BindError extends Error {}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  dirs.add(dir);
  const args = serverArgs(dir, options);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnServer(port, args);
      return new Server(port, dir, args, child);
    } catch (error) {
      // Another process took the port between our probe and the server's bind: pick another.
      if (!(error instanceof BindError) || attempt >= 5) throw error;
    }
  }
}

function serverArgs(dir: string, options: RedisServerOptions): string[] {
  const persistence = options.persistence
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  return ['--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no', ...(options.args ?? [])];
}

class Server implements RedisServerHandle {
  readonly url: string;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private child: ChildProcess | undefined,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
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
        this.child = await spawnServer(this.port, this.args);
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

  client(): Redis {
    const client = new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // reconnect noise while a test has the server down
    return client;
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
async function freePort(): Promise<number> {
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

/** Spawns redis-server and resolves once it logs that it accepts connections (after loading the AOF). */
function spawnServer(port: number, args: string[]): Promise<ChildProcess> {
  if (port === SHARED_REDIS_PORT) throw new Error('refusing to touch the shared Redis on 6379');
  const [command = BINARY, ...launcherArgs] = LAUNCHER;
  const child = spawn(command, [...launcherArgs, '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
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
