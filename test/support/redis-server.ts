// A standalone redis-server for tests (persistence, passwords, ACL users, TLS as asked) and fresh
// clients for it: a redis-process.ts process configured as one server.
import { Redis, type RedisOptions } from 'ioredis';
import { GuardedConnector } from '../../src/broker/guarded-connector.js';
import { type RedisProcess, startRedisProcess } from './redis-process.js';
import { testCertificates } from './throwaway-ca.js';

export interface RedisServerHandle extends RedisProcess {
  /** redis://127.0.0.1:<port>, or rediss://127.0.0.1:<port> with `tls`; never with credentials. */
  readonly url: string;
  /** With `tls`: PEM file of the test CA that signed the server's certificate (for REDIS_TLS_CA_FILE). */
  readonly caFile: string | undefined;
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
   * by a test CA (throwaway-ca.ts; see `caFile`).
   */
  tls?: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const certificates = options.tls ? await testCertificates() : undefined;
  const server = await startRedisProcess({ args: serverArgs(options), certificates });
  const auth: RedisOptions = options.requirePass === undefined ? {} : { password: options.requirePass };
  const tls = certificates ? { tls: { ca: certificates.caPem } } : {};
  return Object.assign(server, {
    url: `${certificates ? 'rediss' : 'redis'}://127.0.0.1:${server.port}`,
    caFile: certificates?.caFile,
    client(clientOptions: RedisOptions = {}): Redis {
      // GuardedConnector: a torn-down TLS socket may error twice, which bare ioredis does not survive.
      const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1, Connector: GuardedConnector, ...auth, ...tls, ...clientOptions });
      client.on('error', () => {}); // reconnect noise while a test has the server down
      return client;
    },
  });
}

function serverArgs(options: RedisServerOptions): string[] {
  const persistence = options.persistence
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const auth = options.requirePass === undefined ? [] : ['--requirepass', options.requirePass];
  const users = (options.aclUsers ?? []).flatMap(({ name, password }) => ['--user', name, 'on', `>${password}`, '~*', '&*', '+@all']);
  return [...persistence, ...auth, ...users, ...(options.args ?? [])];
}
