import { Redis, type RedisOptions } from 'ioredis';
import { BrokerUnavailableError } from './broker.js';

/** Minimal pino-compatible logger, so the broker does not depend on the logging setup. */
export interface BrokerLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisConnectionOptions {
  /** redis://[user:pass@]host:port[/db] or rediss://... for TLS. */
  url: string;
  /** First reconnect delay; it doubles per failed attempt. */
  retryBaseMs: number;
  /** Cap of the reconnect delay; reconnecting never stops. */
  retryMaxMs: number;
  /** A command that gets no answer within this time fails (so a hung Redis means 503, not a hang). */
  commandTimeoutMs: number;
}

/** Where to connect, from a redis:// or rediss:// URL (username, password and db included). */
export function redisTargetFromUrl(url: string): RedisOptions {
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
  // Node's TLS uses `host` as the SNI server name and verifies the certificate by default.
  if (parsed.protocol === 'rediss:') target.tls = {};
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
  return {
    ...redisTargetFromUrl(options.url),
    connectionName,
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
 * connection has nothing to batch.
 */
export function createRedisConnection(options: RedisConnectionOptions, connectionName: string, pipelined = false): Redis {
  return new Redis({ ...redisConnectionOptions(options, connectionName), enableAutoPipelining: pipelined });
}

/** ioredis reports every failed reconnect attempt; log once per outage, not once per attempt. */
export function logConnectionErrors(redis: Redis, connection: string, logger: BrokerLogger | undefined): void {
  let reported = false;
  redis.on('ready', () => {
    reported = false;
  });
  // Listening also keeps ioredis from printing "Unhandled error event" to the console.
  redis.on('error', (error: unknown) => {
    if (reported || redis.status === 'end') return;
    reported = true;
    logger?.warn({ err: error, connection }, 'Redis connection error; retrying with backoff');
  });
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
  const reason = error instanceof Error ? error.message : String(error);
  return new BrokerUnavailableError(`Redis unavailable during ${operation}: ${reason}`, { cause: error });
}
