import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Where a credential could sit in what is logged (a request's headers, a client's options, an
 * error's fields): censored wherever it appears, one or two levels deep. Nothing in sigcast logs
 * these on purpose; this keeps a careless `{ err }` or `{ headers }` from leaking one.
 */
const SECRET_KEYS = ['authorization', 'cookie', 'token', 'password', 'secret', 'apiKey', 'api_key', 'key'];
// ioredis errors carry the failed command: for AUTH, its arguments are the username and password.
const REDACT_PATHS = [...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]), 'err.command.args', 'err.previousErrors[*].command.args'];

/**
 * Structured JSON logs on stdout (pino): one line per event, machine-readable. The pid tells the
 * workers of `serve --workers` apart. Writes are asynchronous: flush (cli/run-node.ts) before exit.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'sigcast', pid: process.pid, ...bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}
