import { z } from 'zod';

/**
 * All configuration, from environment variables, validated once at start by one schema.
 * Nothing else in src/ reads process.env.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const ConfigSchema = z.object({
  PORT: int(0, 65535).default(8080).describe('HTTP and WebSocket port (0 picks a free one)'),
  /** Loopback by default: with no auth configured sigcast must not be reachable from outside. */
  HOST: z.string().min(1).default('127.0.0.1').describe('Bind address. Loopback by default: sigcast has no auth yet'),
  /** redis://[user:pass@]host:port[/db] or rediss:// for TLS. Absent: the embedded in-memory broker. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .refine((value) => URL.canParse(value), 'must be a valid URL')
    .optional()
    .describe('redis://[user:pass@]host:port[/db], or rediss:// for TLS. Absent: the embedded in-memory broker (one node, history lost on restart)'),
  /**
   * PEM CA bundle that verifies the Redis server's certificate on rediss:// (e.g. a private CA);
   * it replaces Node's built-in roots for that connection. Read and checked when the broker is built.
   */
  REDIS_TLS_CA_FILE: z.string().optional().describe('PEM CA bundle that verifies the Redis certificate (only with a rediss:// REDIS_URL)'),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,32}$/).default('sc').describe('Prefix of every Redis key and pub/sub channel'),
  HISTORY_SIZE: int(1, 100_000).default(1000).describe("Entries kept per channel (Redis list and the hub's in-memory ring)"),
  HISTORY_TTL_SECONDS: int(1, 365 * 24 * 3600).default(24 * 3600).describe("A channel's history expires this long after its last append"),
  TRANSPORT: z.enum(['uws', 'ws']).default('uws').describe('uws (uWebSockets.js) or ws (node:http + ws, where uWS cannot load)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('fatal, error, warn, info, debug, trace or silent (JSON logs on stdout)'),
  /** Largest accepted HTTP body. */
  MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024).describe('Largest HTTP body (413 past it)'),
  /** Largest number of signals in one publish (HTTP or WebSocket). */
  MAX_BATCH: int(1, 10_000).default(1000).describe('Most signals in one publish (413 past it)'),
  /** Largest accepted WebSocket frame from a client. */
  MAX_FRAME_BYTES: int(256, 64 * 1024 * 1024).default(256 * 1024).describe('Largest WebSocket frame from a client (close 1009 past it)'),
  MAX_SUBSCRIPTIONS: int(1, 100_000).default(1000).describe('Channels one connection may subscribe to'),
  /** Bytes that may wait in one socket's send buffer before it is closed as a slow consumer. */
  SEND_BUFFER_BYTES: int(16 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024).describe("Bytes that may wait in one socket's send buffer before it is closed as a slow consumer (4008)"),
  /** Seconds of silence after which the server pings; a client silent for twice that is closed. */
  // uWS accepts an idle timeout (twice this) of 8 to 960 s, and aborts the process otherwise.
  HEARTBEAT_SECONDS: int(4, 480).default(16).describe('The server pings a client silent this long and drops one silent twice as long (4..480)'),
  /** Seconds to wait for in-flight work during shutdown. */
  SHUTDOWN_GRACE_SECONDS: int(0, 600).default(10).describe('How long shutdown waits for in-flight ingest'),
  /** Redis reconnect backoff: first delay and cap, in ms. */
  REDIS_RETRY_BASE_MS: int(1, 60_000).default(50).describe('First Redis reconnect delay; it doubles up to REDIS_RETRY_MAX_MS, forever'),
  REDIS_RETRY_MAX_MS: int(10, 600_000).default(2000).describe('Cap of the Redis reconnect delay'),
  /** How long an ingest call may wait for Redis before answering 503. */
  REDIS_COMMAND_TIMEOUT_MS: int(10, 600_000).default(2000).describe('How long ingest waits for Redis before answering 503'),
  /** Allow the slow JavaScript emulation of uWebSockets.js (only for debugging). */
  UWS_ALLOW_FALLBACK: bool.default(false).describe("Allow uWebSockets.js's slow JavaScript emulation (refused otherwise)"),
  NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().describe('Name of this node in logs and the welcome frame. Absent: <hostname>-<pid>'),
}).refine((config) => config.REDIS_TLS_CA_FILE === undefined || config.REDIS_URL?.startsWith('rediss://') === true, {
  path: ['REDIS_TLS_CA_FILE'],
  message: 'needs REDIS_URL to be a rediss:// (TLS) URL',
  // zod skips object refinements once any field failed; run this one unless its own inputs did.
  when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'REDIS_URL' || issue.path?.[0] === 'REDIS_TLS_CA_FILE'),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses configuration from an environment-like record; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set", as shells make it easy to export KEY= by accident.
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const given = relevant[key];
        return `${key}=${JSON.stringify(given)}: ${issue.message}`;
      }),
    );
  }
  return Object.freeze(parsed.data);
}

/** One configuration variable as `sigcast serve --help` lists it. */
export interface ConfigVariable {
  name: string;
  /** The default as a string; undefined when the variable is optional and has none. */
  defaultValue: string | undefined;
  description: string;
}

/** Every variable of the schema with its default and meaning (from each field's `.describe()`). */
export function describeConfig(): ConfigVariable[] {
  return Object.entries(ConfigSchema.shape).map(([name, field]) => {
    const def = field.def as { type: string; defaultValue?: unknown };
    return { name, defaultValue: def.type === 'default' ? String(def.defaultValue) : undefined, description: field.description ?? '' };
  });
}

/** The process environment, read in exactly one place. */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
