import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { BrokerUnavailableError } from './broker.js';
import { GuardedConnector } from './guarded-connector.js';

/** Minimal pino-compatible logger, so the broker does not depend on the logging setup. */
export interface BrokerLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** The Redis commands sigcast times (each Lua script counts as one command). */
export type RedisCommandName = 'append' | 'history' | 'exists' | 'subscribe' | 'unsubscribe' | 'ping';

/** Told of every timed command: how long it took and whether it succeeded (for metrics). */
export type CommandObserver = (command: RedisCommandName, seconds: number, ok: boolean) => void;

/** Runs `command`, telling `observe` how long it took and whether it succeeded. */
export async function timed<T>(observe: CommandObserver | undefined, command: RedisCommandName, run: () => Promise<T>): Promise<T> {
  if (!observe) return run();
  const started = performance.now();
  try {
    const result = await run();
    observe(command, (performance.now() - started) / 1000, true);
    return result;
  } catch (error) {
    observe(command, (performance.now() - started) / 1000, false);
    throw error;
  }
}

export interface RedisConnectionOptions {
  /** One Redis: redis://[user:pass@]host:port[/db] or rediss://... for TLS. Exactly one of url and clusterNodes. */
  url?: string;
  /**
   * A Redis Cluster: its seed nodes, `host:port,host:port,...`, or with credentials and TLS
   * `redis[s]://[user:pass@]host:port,host:port,...` (see redis-cluster-connection.ts).
   */
  clusterNodes?: string;
  /**
   * PEM CA bundle (the certificates, not a path) that verifies the server's certificate on a
   * rediss:// URL instead of Node's built-in roots: how a private CA is trusted.
   */
  tlsCa?: string;
  /** First reconnect delay; it doubles per failed attempt. */
  retryBaseMs: number;
  /** Cap of the reconnect delay; reconnecting never stops. */
  retryMaxMs: number;
  /** A command that gets no answer within this time fails (so a hung Redis means 503, not a hang). */
  commandTimeoutMs: number;
}

/**
 * Where to connect, from a redis:// or rediss:// URL (username, password and db included);
 * `tlsCa` is the PEM CA bundle to trust for rediss:// (see RedisConnectionOptions).
 */
export function redisTargetFromUrl(url: string, tlsCa?: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`Redis URL must start with redis:// or rediss://, got ${parsed.protocol}//`);
  }
  const target: RedisOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
  };
  if (parsed.username !== '') target.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') target.password = decodeURIComponent(parsed.password);
  const dbPath = parsed.pathname.replace(/^\//, '');
  if (dbPath !== '') {
    if (!/^\d+$/.test(dbPath)) throw new Error(`Redis URL path must be a database number, got /${dbPath}`);
    target.db = Number(dbPath);
  }
  // Node's TLS verifies the certificate against `host` (a DNS name or an IP address SAN).
  if (parsed.protocol === 'rediss:') target.tls = tlsCa === undefined ? {} : { ca: tlsCa };
  else if (tlsCa !== undefined) throw new Error('a TLS CA applies only to a rediss:// Redis URL');
  return target;
}

/** Exponential backoff: base, 2*base, 4*base, ... capped at max. `attempt` starts at 1. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

/**
 * Full ioredis options for one sigcast connection. Everything is chosen so that a command fails
 * fast instead of waiting while Redis is away: callers answer 503 and publishers retry (their
 * signal ids make the retry safe), rather than requests piling up in memory.
 */
export function redisConnectionOptions(options: RedisConnectionOptions, connectionName: string): RedisOptions {
  if (options.url === undefined) throw new Error('a Redis URL is needed for a connection to one Redis');
  return { ...pinTls(redisTargetFromUrl(options.url, options.tlsCa)), ...failFastOptions(options, connectionName) };
}

/** Pinned so that NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off. */
export function pinTls<T extends Pick<RedisOptions, 'tls'>>(target: T): T {
  return target.tls ? { ...target, tls: { ...target.tls, rejectUnauthorized: true } } : target;
}

/** What every sigcast connection shares, whatever it connects to (one Redis or a cluster node). */
export function failFastOptions(options: RedisConnectionOptions, connectionName: string): RedisOptions {
  return {
    connectionName,
    Connector: GuardedConnector,
    // Reject at once while disconnected instead of queueing.
    enableOfflineQueue: false,
    // Commands in flight when the connection drops are rejected at once (no retry on reconnect)...
    maxRetriesPerRequest: 0,
    // ...and never re-sent later behind the caller's back (the caller already got an error).
    autoResendUnfulfilledCommands: false,
    // The broker re-subscribes itself, so it knows when subscriptions are back in place.
    autoResubscribe: false,
    commandTimeout: options.commandTimeoutMs,
    retryStrategy: (attempt: number) => retryDelayMs(attempt, options.retryBaseMs, options.retryMaxMs),
  };
}

/**
 * `pipelined`: commands issued in one event-loop turn leave in one write (one syscall instead of
 * one per EVALSHA under concurrent publishes). Only for the command connection: a subscriber
 * connection has nothing to batch. `writtenAtOnce`: commands that are already one call per turn
 * (AppendBatcher); auto-pipelining would only hold them back to setImmediate and wrap each in a
 * pipeline of one.
 */
export function createRedisConnection(options: RedisConnectionOptions, connectionName: string, pipelined = false, writtenAtOnce: readonly string[] = []): Redis {
  return new Redis({ ...redisConnectionOptions(options, connectionName), enableAutoPipelining: pipelined, autoPipeliningIgnoredCommands: [...writtenAtOnce] });
}

/**
 * ioredis reports every failed reconnect attempt; log once per outage and kind of problem, not
 * once per attempt. A misconfiguration (credentials, certificate) gets a message that says what to
 * fix; it is still retried, so a node recovers without a restart once Redis or the CA is fixed.
 */
export function logConnectionErrors(redis: Redis | Cluster, connection: string, logger: BrokerLogger | undefined): void {
  const reported = new Set<ConnectionProblem>();
  redis.on('ready', () => reported.clear());
  // Listening also keeps ioredis from printing "Unhandled error event" to the console.
  redis.on('error', (error: unknown) => {
    if (redis.status === 'end') return;
    const problem = connectionProblem(error);
    if (reported.has(problem)) return;
    reported.add(problem);
    logger?.warn({ err: error, connection, problem }, `${PROBLEM_MESSAGES[problem]}; retrying with backoff`);
  });
}

export type ConnectionProblem = 'credentials' | 'permissions' | 'certificate' | 'tls' | 'connection';

const PROBLEM_MESSAGES: Record<ConnectionProblem, string> = {
  credentials: 'Redis rejected the credentials: check the username and password in REDIS_URL',
  permissions: 'the Redis user lacks a permission sigcast needs (ACL)',
  certificate:
    "the Redis server's TLS certificate was not accepted: REDIS_TLS_CA_FILE must hold the CA that signed it, and the certificate must name the host of REDIS_URL",
  tls: 'the TLS handshake with Redis failed: check that the server port speaks TLS (rediss://) or not (redis://)',
  connection: 'Redis connection error',
};

/** Node's codes for a certificate that failed verification (tls.connect with rejectUnauthorized). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What kind of connection failure this is, so the log can say what to fix. */
export function connectionProblem(error: unknown): ConnectionProblem {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // ioredis reports a failed AUTH as is, and a missing one as "Ready check failed: NOAUTH ...".
  if (/\b(WRONGPASS|NOAUTH)\b/.test(message)) return 'credentials';
  if (/\bNOPERM\b/.test(message)) return 'permissions';
  if (typeof code === 'string' && CERTIFICATE_CODES.has(code)) return 'certificate';
  if (typeof code === 'string' && code.startsWith('ERR_SSL_')) return 'tls';
  return 'connection';
}

/** Redis replies that mean "not now" rather than "wrong": the store is unavailable for a while. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS)\b/;

/**
 * Maps an ioredis failure to what callers act on: connection loss, timeouts and transient server
 * states become BrokerUnavailableError (503 + Retry-After); any other Redis reply error (e.g. a
 * failing script) is a bug and stays a plain Error.
 */
export function toBrokerError(error: unknown, operation: string): Error {
  if (error instanceof BrokerUnavailableError) return error;
  const isReplyError = error instanceof Error && error.name === 'ReplyError';
  if (isReplyError && !TRANSIENT_REPLY.test(error.message)) return error;
  const consequence = CONSEQUENCES[operation] ?? `${operation} failed`;
  return new BrokerUnavailableError(`storage is unavailable: ${unavailableReason(error)}; ${consequence}; retry later`, { cause: error });
}

/** What a failed operation means for the caller (the 503's message says it). */
const CONSEQUENCES: Record<string, string> = {
  append: 'nothing was stored',
  history: 'the history was not read',
  subscribe: 'the live subscription was not made',
  ping: 'it did not answer a PING',
};

/** What Redis's transient replies mean, in sigcast's words. */
const TRANSIENT_MEANING: Record<string, string> = {
  LOADING: 'Redis is still loading its data',
  BUSY: 'Redis is busy running a script',
  MASTERDOWN: 'the Redis replica lost its master',
  READONLY: 'Redis is a read-only replica',
  CLUSTERDOWN: 'the Redis cluster is down',
  TRYAGAIN: 'Redis asked to try again',
  OOM: 'Redis is out of memory',
  NOREPLICAS: 'Redis has too few replicas',
};

/**
 * Why Redis could not serve a command, in sigcast's words: ioredis's own text (e.g. "Stream
 * isn't writeable and enableOfflineQueue options is false") stays in the error's `cause`.
 */
export function unavailableReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'ReplyError') return TRANSIENT_MEANING[message.split(' ')[0]!] ?? 'Redis refused the command';
  if (/timed out/i.test(message)) return 'Redis did not answer in time';
  return 'Redis is not connected';
}
