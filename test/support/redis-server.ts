import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GuardedConnector } from '../../src/broker/guarded-connector.js';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Real redis-server processes for tests: each on a free loopback port, in its own temp dir, killed
 * when the test process exits. Never the shared Redis on 6379.
 */
export interface RedisServerHandle {
  /** The port clients use: the TLS port when started with `tls`. */
  readonly port: number;
  /** redis://127.0.0.1:<port>, or rediss://127.0.0.1:<port> with `tls`; never with credentials. */
  readonly url: string;
  /** With `tls`: PEM file of the test CA that signed the server's certificate (for REDIS_TLS_CA_FILE). */
  readonly caFile: string | undefined;
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
  /** A fresh client for assertions (authenticated, trusting the test CA); the test must quit it. */
  client(options?: RedisOptions): Redis;
}

export interface RedisServerOptions {
  /** appendonly with fsync on every write, so even SIGKILL loses nothing. Default false. */
  persistence?: boolean;
  /** Extra redis-server arguments. */
  args?: string[];
  /** requirepass: the default user needs this password. */
  requirePass?: string;
  /** ACL users with full access (every key, channel and command). */
  aclUsers?: Array<{ name: string; password: string }>;
  /**
   * TLS only (the plain port is off), with a certificate for IP:127.0.0.1 and DNS:localhost signed
   * by a test CA (made once per test process with the openssl CLI; see `caFile`).
   */
  tls?: boolean;
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
  const certificates = options.tls ? await testCertificates() : undefined;
  const dir = newDir();
  const args = serverArgs(dir, options, certificates);
  const auth: RedisOptions = options.requirePass === undefined ? {} : { password: options.requirePass };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnServer(port, args, certificates !== undefined);
      return new Server(port, dir, args, child, auth, certificates);
    } catch (error) {
      // Another process took the port between our probe and the server's bind: pick another.
      if (!(error instanceof BindError) || attempt >= 5) throw error;
    }
  }
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  dirs.add(dir);
  return dir;
}

function serverArgs(dir: string, options: RedisServerOptions, certificates: TestCertificates | undefined): string[] {
  const persistence = options.persistence
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const auth = options.requirePass === undefined ? [] : ['--requirepass', options.requirePass];
  const users = (options.aclUsers ?? []).flatMap(({ name, password }) => ['--user', name, 'on', `>${password}`, '~*', '&*', '+@all']);
  const tls = certificates
    ? ['--tls-cert-file', certificates.certFile, '--tls-key-file', certificates.keyFile, '--tls-ca-cert-file', certificates.caFile, '--tls-auth-clients', 'no']
    : [];
  return ['--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, ...auth, ...users, ...tls, '--daemonize', 'no', ...(options.args ?? [])];
}

class Server implements RedisServerHandle {
  readonly url: string;
  readonly caFile: string | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private child: ChildProcess | undefined,
    private readonly auth: RedisOptions,
    private readonly certificates: TestCertificates | undefined,
  ) {
    this.url = `${certificates ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
    this.caFile = certificates?.caFile;
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
        this.child = await spawnServer(this.port, this.args, this.certificates !== undefined);
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

  client(options: RedisOptions = {}): Redis {
    const tls = this.certificates ? { tls: { ca: this.certificates.caPem } } : {};
    // GuardedConnector: a torn-down TLS socket may error twice, which bare ioredis does not survive.
    const client = new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 1, Connector: GuardedConnector, ...this.auth, ...tls, ...options });
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

/**
 * Spawns redis-server and resolves once it logs that it accepts connections (after loading the
 * AOF). With `tls` the port is the TLS port and the plain one is off.
 */
function spawnServer(port: number, args: string[], tls: boolean): Promise<ChildProcess> {
  if (port === SHARED_REDIS_PORT) throw new Error('refusing to touch the shared Redis on 6379');
  const [command = BINARY, ...launcherArgs] = LAUNCHER;
  const listen = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child = spawn(command, [...launcherArgs, ...listen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export interface TestCertificates {
  /** PEM of the test CA (what REDIS_TLS_CA_FILE points to). */
  readonly caFile: string;
  readonly caPem: string;
  /** Server certificate (SAN IP:127.0.0.1, DNS:localhost) and its key, signed by the test CA. */
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM of another CA, which signed nothing here: a valid bundle that must not be trusted. */
  readonly otherCaFile: string;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = sigcast test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

let certificates: Promise<TestCertificates> | undefined;

/** A test CA and a server certificate signed by it, made once per test process with the openssl CLI. */
export function testCertificates(): Promise<TestCertificates> {
  certificates ??= makeCertificates();
  return certificates;
}

async function makeCertificates(): Promise<TestCertificates> {
  installExitHook();
  const dir = newDir();
  const file = (name: string) => join(dir, name);
  writeFileSync(file('openssl.cnf'), OPENSSL_CONFIG);
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  // EC keys: generated in milliseconds, where RSA takes a noticeable part of a second.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    openssl('req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=sigcast test ${name}`);
  await Promise.all([
    ca('ca'),
    ca('other-ca'),
    openssl('req', '-new', '-config', 'openssl.cnf', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'),
  ]);
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now()), '-days', '2', '-extfile', 'openssl.cnf', '-extensions', 'server', '-out', 'server.pem');
  return {
    caFile: file('ca.pem'),
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    otherCaFile: file('other-ca.pem'),
  };
}

export type TlsSupport = { supported: true } | { supported: false; reason: string };

let tlsSupport: Promise<TlsSupport> | undefined;

/**
 * Whether TLS tests can run here: openssl makes the certificates, and this redis-server starts on
 * a TLS port and answers PING over TLS. Probed once per test process.
 */
export function redisTlsSupport(): Promise<TlsSupport> {
  tlsSupport ??= (async (): Promise<TlsSupport> => {
    let server: RedisServerHandle | undefined;
    let client: Redis | undefined;
    try {
      server = await startRedisServer({ tls: true });
      client = server.client({ maxRetriesPerRequest: 0, retryStrategy: () => null });
      await client.ping();
      return { supported: true };
    } catch (error) {
      // The end of redis-server's output says why it refused (e.g. an unknown tls-port directive).
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(-300);
      return { supported: false, reason: `redis-server (${BINARY}) with TLS or openssl is not usable here: ${reason}` };
    } finally {
      client?.disconnect();
      await server?.stop();
    }
  })();
  return tlsSupport;
}
