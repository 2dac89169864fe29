import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BrokerUnavailableError } from '../../src/broker/broker.js';
import { type RedisBroker, createRedisBroker } from '../../src/broker/redis-broker.js';
import { readTlsCaFile, redisBrokerOptionsFromConfig } from '../../src/wiring.js';
import {
  type BrokerLogger,
  type ConnectionProblem,
  connectionProblem,
  redisConnectionOptions,
  redisTargetFromUrl,
} from '../../src/broker/redis-connection.js';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';
import { testCertificates } from '../support/throwaway-ca.js';
import { redisTlsSupport } from '../support/tls-probe.js';
import { openTestBroker } from '../support/test-broker.js';
import { TestClient, postSignals, signal as httpSignal, startTestNode } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';
import { recorder, signal } from './broker.case.js';

/**
 * The Redis connection as configured by REDIS_URL and REDIS_TLS_CA_FILE, against real
 * redis-server processes: passwords, ACL users, db selection and rediss:// with a private CA.
 */

const PASSWORD = 'pa ss:@/word'; // characters that must survive URL encoding
const USER = { name: 'bot', password: 's3cret' };
const tls = await redisTlsSupport();
if (!tls.supported) console.warn(`skipping the rediss:// tests: ${tls.reason}`);
const ipv6 = await canListenOn('::1');

let prefixes = 0;

interface Warning {
  obj: { err?: unknown; connection?: string; problem?: ConnectionProblem };
  msg: string;
}

function recordingLogger(): BrokerLogger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (obj, msg) => warnings.push({ obj, msg }), info: () => {} };
}

function openBroker(url: string, options: { tlsCa?: string; logger?: BrokerLogger } = {}): { broker: RedisBroker; prefix: string } {
  return openTestBroker(url, options);
}

function openClient(server: RedisServerHandle, options: Parameters<RedisServerHandle['client']>[0] = {}): Redis {
  const client = server.client(options);
  onTestFinished(() => void client.disconnect());
  return client;
}

function withAuth(url: string, username: string, password: string, db = ''): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(username);
  parsed.password = encodeURIComponent(password);
  parsed.pathname = db;
  return parsed.toString();
}

/** Append, read back and receive live, through both of the broker's connections. */
async function roundTrip(broker: RedisBroker): Promise<void> {
  await broker.ready();
  const live = recorder();
  await broker.subscribe('BTCUSDT', live.listener);
  const { results } = await broker.append('BTCUSDT', [signal('a'), signal('b')]);
  expect(results.map((r) => r.seq)).toEqual([1, 2]);
  const page = await broker.history('BTCUSDT', { limit: 10 });
  expect(page.entries.map((e) => e.signal.id)).toEqual(['a', 'b']);
  await waitFor(() => live.calls.length === 1, 2000, 'the live announcement');
  expect(live.seqs()).toEqual([[1, 2]]);
  expect((await broker.health()).ok).toBe(true);
}

/** The broker cannot get in: never ready, fast 503-style errors, and a warning that says why. */
async function expectRefused(broker: RedisBroker, logger: { warnings: Warning[] }, problem: ConnectionProblem): Promise<Warning> {
  // Both connections report the problem, once each (not once per reconnect attempt).
  await waitFor(() => logger.warnings.filter((w) => w.obj.problem === problem).length === 2, 3000, `a ${problem} warning`);
  const started = Date.now();
  const error = await broker.append('BTCUSDT', [signal('x')]).catch((reason: unknown) => reason);
  expect(error).toBeInstanceOf(BrokerUnavailableError);
  expect(Date.now() - started).toBeLessThan(200);
  expect(await broker.history('BTCUSDT', { limit: 1 }).catch((reason: unknown) => reason)).toBeInstanceOf(BrokerUnavailableError);
  expect((await broker.health()).ok).toBe(false);
  let ready = false;
  void broker.ready().then(() => (ready = true), () => {});
  await new Promise((resolve) => setTimeout(resolve, 300)); // a few reconnect attempts (20..200 ms apart)
  expect(ready).toBe(false);
  expect(logger.warnings.filter((w) => w.obj.problem === problem)).toHaveLength(2);
  return logger.warnings.find((w) => w.obj.problem === problem)!;
}

describe('password and ACL user in REDIS_URL', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer({ requirePass: PASSWORD, aclUsers: [USER] });
  });
  afterAll(() => server?.stop());

  test('redis://:password@ authenticates the default user (requirepass)', async () => {
    const { broker } = openBroker(withAuth(server.url, '', PASSWORD));
    await roundTrip(broker);
  });

  test('redis://user:password@ authenticates an ACL user, on both connections', async () => {
    const { broker } = openBroker(withAuth(server.url, USER.name, USER.password));
    await roundTrip(broker);
    const clients = String(await openClient(server).client('LIST'));
    for (const name of ['sigcast-command', 'sigcast-subscriber']) {
      expect(clients.split('\n').find((line) => line.includes(` name=${name} `))).toContain(` user=${USER.name} `);
    }
  });

  test.each([
    ['a wrong password', () => withAuth(server.url, '', 'wrong'), /WRONGPASS/],
    ['a wrong ACL user password', () => withAuth(server.url, USER.name, 'wrong'), /WRONGPASS/],
    ['an unknown ACL user', () => withAuth(server.url, 'nobody', 'x'), /WRONGPASS/],
    ['no password', () => server.url, /NOAUTH/],
  ])('%s: never ready, append fails fast with BrokerUnavailableError, and the log says to check the credentials', async (_, url, reply) => {
    const logger = recordingLogger();
    const { broker } = openBroker(url(), { logger });
    const warning = await expectRefused(broker, logger, 'credentials');
    expect(String(warning.obj.err)).toMatch(reply);
    expect(warning.msg).toMatch(/rejected the credentials: check the username and password in REDIS_URL; retrying with backoff/);
  });

  test('after a wrong password the broker keeps retrying, and recovers once Redis accepts it', async () => {
    const own = await startRedisServer({ requirePass: 'old' });
    onTestFinished(() => own.stop());
    const logger = recordingLogger();
    const { broker } = openBroker(withAuth(own.url, '', 'new'), { logger });
    await waitFor(() => logger.warnings.length === 2, 3000, 'the credentials warnings');
    await openClient(own).config('SET', 'requirepass', 'new');
    await waitFor(async () => (await broker.health()).ok, 3000, 'the broker to get in');
    await roundTrip(broker);
  });
});

describe('db number in REDIS_URL', () => {
  test('redis://host:port/3 stores in db 3 and nothing in db 0', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const { broker, prefix } = openBroker(`${server.url}/3`);
    await roundTrip(broker);
    const keys = channelKeys(prefix, 'BTCUSDT');
    const db3 = openClient(server, { db: 3 });
    expect((await db3.keys(`${prefix}:*`)).sort()).toEqual([keys.ids, keys.log, keys.meta].sort());
    expect(await db3.llen(keys.log)).toBe(2);
    expect(await openClient(server).keys(`${prefix}:*`)).toEqual([]);
    const command = String(await db3.client('LIST')).split('\n').find((line) => line.includes(' name=sigcast-command '));
    expect(command).toContain(' db=3 ');
  });
});

describe.skipIf(!tls.supported)(`rediss:// with REDIS_TLS_CA_FILE${tls.supported ? '' : ` (skipped: ${tls.reason})`}`, () => {
  let server: RedisServerHandle;
  let ca: string;
  beforeAll(async () => {
    // The plain port is off: every connection to this server is TLS. '-::1' binds IPv6 when there is one.
    server = await startRedisServer({ tls: true, aclUsers: [USER], args: ['--bind', '127.0.0.1', '-::1'] });
    ca = readTlsCaFile(server.caFile!);
  });
  afterAll(() => server?.stop());

  test('the test server is TLS only, on 127.0.0.1 with a certificate for that address', () => {
    expect(server.url).toBe(`rediss://127.0.0.1:${server.port}`);
    expect(server.caFile).toMatch(/ca\.pem$/);
  });

  test('appends, reads and receives live entries over TLS, trusting the private CA', async () => {
    const config = loadConfig({ REDIS_URL: server.url, REDIS_TLS_CA_FILE: server.caFile, REDIS_KEY_PREFIX: `rc${++prefixes}` });
    const broker = createRedisBroker({ ...redisBrokerOptionsFromConfig(config), retryBaseMs: 20, retryMaxMs: 200 });
    onTestFinished(() => broker.close());
    await roundTrip(broker);
  });

  test('TLS, ACL user and db together: rediss://user:password@127.0.0.1:port/2', async () => {
    const { broker, prefix } = openBroker(withAuth(server.url, USER.name, USER.password, '/2'), { tlsCa: ca });
    await roundTrip(broker);
    expect(await openClient(server, { db: 2 }).exists(channelKeys(prefix, 'BTCUSDT').log)).toBe(1);
  });

  test('without the CA the certificate is rejected (Node roots do not know it): never ready, nothing sent', async () => {
    const logger = recordingLogger();
    const { broker } = openBroker(server.url, { logger });
    const warning = await expectRefused(broker, logger, 'certificate');
    // Which one depends on whether the server sends its CA along (Redis lets OpenSSL build the chain).
    expect(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']).toContain((warning.obj.err as { code?: string }).code);
    expect(warning.msg).toMatch(/TLS certificate was not accepted: REDIS_TLS_CA_FILE must hold the CA that signed it/);
    expect(String(await openClient(server).client('LIST'))).not.toMatch(/name=sigcast-/);
  });

  test('a CA bundle that did not sign the server certificate is rejected too', async () => {
    const logger = recordingLogger();
    const other = readTlsCaFile((await testCertificates()).otherCaFile);
    const { broker } = openBroker(server.url, { tlsCa: other, logger });
    await expectRefused(broker, logger, 'certificate');
  });

  test('NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment does not turn verification off', async () => {
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    onTestFinished(() => {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    });
    const logger = recordingLogger();
    const { broker } = openBroker(server.url, { logger });
    await expectRefused(broker, logger, 'certificate');
  });

  test.skipIf(!ipv6)('the host name is verified: [::1] is not in the certificate, so it is rejected even with the CA', async () => {
    const logger = recordingLogger();
    const { broker } = openBroker(`rediss://[::1]:${server.port}`, { tlsCa: ca, logger });
    const warning = await expectRefused(broker, logger, 'certificate');
    expect((warning.obj.err as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('a sigcast node on rediss:// with REDIS_TLS_CA_FILE: ingest 200, /readyz 200, live delivery', async () => {
    const node = await startTestNode({ REDIS_URL: server.url, REDIS_TLS_CA_FILE: server.caFile!, REDIS_KEY_PREFIX: `rc${++prefixes}` });
    onTestFinished(() => node.stop());
    expect((await fetch(`${node.baseUrl}/readyz`)).status).toBe(200);
    const client = await TestClient.connect(node.wsUrl);
    onTestFinished(() => client.close());
    await client.subscribe('ETHUSDT');
    const posted = await postSignals(node.baseUrl, httpSignal('ETHUSDT', { id: 'tls-1' }));
    expect(posted.status).toBe(200);
    expect(posted.body.entries).toMatchObject([{ channel: 'ETHUSDT', seq: 1, id: 'tls-1', duplicate: false }]);
    await waitFor(() => client.seqs('ETHUSDT').length === 1, 3000, 'the live entry');
    expect(client.entries('ETHUSDT')[0]?.signal.id).toBe('tls-1');
  });

  test('a node whose REDIS_TLS_CA_FILE cannot be read does not start, and says which variable is wrong', async () => {
    const error = await startTestNode({ REDIS_URL: server.url, REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('REDIS_TLS_CA_FILE="/nonexistent/ca.pem": cannot be read (ENOENT');
  });
});

describe('TLS options (pure)', () => {
  test('the CA goes to ioredis tls.ca for rediss:// only, and verification is pinned on', () => {
    expect(redisTargetFromUrl('rediss://h:6380', 'PEM')).toEqual({ host: 'h', port: 6380, tls: { ca: 'PEM' } });
    expect(() => redisTargetFromUrl('redis://h:6379', 'PEM')).toThrow(/rediss:\/\//);
    const base = { retryBaseMs: 1, retryMaxMs: 10, commandTimeoutMs: 100 };
    expect(redisConnectionOptions({ ...base, url: 'rediss://h', tlsCa: 'PEM' }, 'n').tls).toEqual({ ca: 'PEM', rejectUnauthorized: true });
    expect(redisConnectionOptions({ ...base, url: 'rediss://h' }, 'n').tls).toEqual({ rejectUnauthorized: true });
    expect(redisConnectionOptions({ ...base, url: 'redis://h' }, 'n').tls).toBeUndefined();
  });

  test('connection errors are classified so the log says what to fix', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(connectionProblem(reply('WRONGPASS invalid username-password pair or user is disabled.'))).toBe('credentials');
    expect(connectionProblem(reply('NOAUTH Authentication required.'))).toBe('credentials');
    expect(connectionProblem(new Error('Ready check failed: NOAUTH Authentication required.'))).toBe('credentials');
    expect(connectionProblem(reply("NOPERM this user has no permissions to run the 'info' command"))).toBe('permissions');
    expect(connectionProblem(coded('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('certificate');
    expect(connectionProblem(coded('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('certificate');
    expect(connectionProblem(coded('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls');
    expect(connectionProblem(coded('ECONNREFUSED'))).toBe('connection');
    expect(connectionProblem('weird')).toBe('connection');
  });
});

function canListenOn(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, host, () => probe.close(() => resolve(true)));
  });
}
