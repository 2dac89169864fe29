import { isIP } from 'node:net';
import { z } from 'zod';
import { isLoopbackHost } from './util/loopback.js';
import { CHANNELS_PER_SIGNAL_CEILING } from './signal/schema.js';

/**
 * All configuration, from environment variables, validated once at start by one schema.
 * Nothing else in src/ reads process.env.
 */

/** Port sharing with the embedded broker would give every process its own history of each channel. */
const NEEDS_SHARED_BROKER = 'needs REDIS_URL: port sharing is refused with the embedded in-memory broker, where every process would keep a separate history';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** host:port, IPv6 hosts in brackets. */
const HOST_PORT = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})`;
/** `host:port,host:port,...`, or `redis[s]://[user:pass@]host:port,host:port,...` (one scheme and credentials for all). */
const CLUSTER_NODES = new RegExp(String.raw`^(rediss?://([^@/]*@)?)?${HOST_PORT}(,${HOST_PORT})*/?$`);
const hasRedis = (config: { REDIS_URL?: string | undefined; REDIS_CLUSTER_NODES?: string | undefined }) =>
  config.REDIS_URL !== undefined || config.REDIS_CLUSTER_NODES !== undefined;
/** Runs an object refinement unless one of the fields it reads failed already (zod skips it then). */
const unlessFailed = (...fields: string[]) => ({
  when: (payload: { issues: ReadonlyArray<{ path?: PropertyKey[] | undefined }> }) =>
    !payload.issues.some((issue) => fields.includes(String(issue.path?.[0]))),
});

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const ConfigSchema = z.object({
  PORT: int(0, 65535).default(8080).describe('HTTP and WebSocket port (0 picks a free one)'),
  /** Loopback by default: with no auth configured sigcast must not be reachable from outside. */
  HOST: z.string().refine(isListenHost, 'must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name (letters, digits, hyphens and dots)').default('127.0.0.1').describe('Bind address. Loopback by default; another address needs auth configured or ALLOW_ANONYMOUS=true'),
  /** redis://[user:pass@]host:port[/db] or rediss:// for TLS. Absent: the embedded in-memory broker. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .refine((value) => URL.canParse(value), 'must be a valid URL')
    .optional()
    .describe('redis://[user:pass@]host:port[/db], or rediss:// for TLS. Absent: the embedded in-memory broker (one node, history lost on restart)'),
  /**
   * A Redis Cluster instead of one Redis: seed nodes `host:port,host:port,...`, or with credentials
   * and TLS `rediss://user:pass@host:port,host:port`. Sharded pub/sub; not with REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(CLUSTER_NODES, 'must be host:port,host:port,... or redis[s]://[user:pass@]host:port,host:port,... (no database path)')
    .refine((value) => [...value.matchAll(/:(\d{1,5})(?=,|\/?$)/g)].every((match) => Number(match[1]) >= 1 && Number(match[1]) <= 65535), 'has a port outside 1..65535')
    .optional()
    .describe('A Redis Cluster instead of one Redis: seed nodes host:port,host:port,..., or redis[s]://[user:pass@]host:port,host:port,... (not with REDIS_URL)'),
  /**
   * Ingest answers 2xx only once WAIT confirms each append reached this many replicas of its
   * master (0: once the master ran it). A timeout answers 503; the retry is idempotent.
   */
  REDIS_ACK_REPLICAS: int(0, 16).default(0).describe('Ingest answers 2xx only once WAIT confirms each append reached this many replicas (503 on timeout; retry with the same ids)'),
  /** How long WAIT waits for REDIS_ACK_REPLICAS replicas before the append answers 503. */
  REDIS_ACK_TIMEOUT_MS: int(1, 600_000).default(1000).describe('How long WAIT waits for REDIS_ACK_REPLICAS replicas; below REDIS_COMMAND_TIMEOUT_MS'),
  /**
   * PEM CA bundle that verifies the Redis server's certificate on rediss:// (e.g. a private CA);
   * it replaces Node's built-in roots for that connection. Read and checked when the broker is built.
   */
  REDIS_TLS_CA_FILE: z.string().optional().describe('PEM CA bundle that verifies the Redis certificate (only with a rediss:// REDIS_URL or REDIS_CLUSTER_NODES)'),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,32}$/).default('sc').describe('Prefix of every Redis key and pub/sub channel'),
  HISTORY_SIZE: int(1, 100_000).default(1000).describe("Entries kept per channel (Redis list and the hub's in-memory ring)"),
  HISTORY_TTL_SECONDS: int(1, 365 * 24 * 3600).default(24 * 3600).describe("A channel's history expires this long after its last append"),
  TRANSPORT: z.enum(['uws', 'ws']).default('uws').describe('uws (uWebSockets.js) or ws (node:http + ws, where uWS cannot load)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('fatal, error, warn, info, debug, trace or silent (JSON logs on stdout)'),
  /** Largest accepted HTTP body. */
  MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024).describe('Largest HTTP body (413 past it)'),
  /** Longest HTTP request target, path and query (414 past it). */
  MAX_URL_BYTES: int(256, 65_536).default(4096).describe('Longest HTTP request target, path and query (414 past it)'),
  /** Most bytes of HTTP header lines in one request (431 past it). */
  MAX_HEADER_BYTES: int(1024, 65_536).default(8192).describe('Most bytes of HTTP header lines in one request (431 past it)'),
  /** Largest number of signals in one publish (HTTP or WebSocket). */
  MAX_BATCH: int(1, 10_000).default(1000).describe('Most signals in one publish (413 past it)'),
  /** Largest accepted WebSocket frame from a client. */
  MAX_FRAME_BYTES: int(256, 64 * 1024 * 1024).default(256 * 1024).describe('Largest WebSocket frame from a client (close 1009 past it)'),
  MAX_SUBSCRIPTIONS: int(1, 100_000).default(1000).describe('Channels one connection may subscribe to'),
  /**
   * Bytes that may wait in one socket's send buffer before it is closed as a slow consumer. The
   * memory bound; MAX_LAG_MS is the time bound and acts first on a steady stream (2 s of a channel
   * at 1,000 entries/s is ~600 KB). 4 MiB still holds a burst such as the full replay of ten
   * channels (~3 MB), which a smaller buffer would turn into slow-consumer closes.
   */
  SEND_BUFFER_BYTES: int(16 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024).describe("Bytes that may wait in one socket's send buffer before it is closed as a slow consumer (4008)"),
  /** Bytes that may wait in the send buffers of all sockets together; past it the largest are closed (4008). */
  SEND_BUDGET_BYTES: int(1024 * 1024, 64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024).describe("Bytes that may wait in all sockets' send buffers together; past it the largest are closed (4008)"),
  /** Subscribes that may sync (read history, subscribe in Redis) at once: node-wide, and per connection. */
  SUBSCRIBE_CONCURRENCY: int(1, 10_000).default(64).describe('Subscribes syncing at once on this node; the rest wait their turn'),
  SUBSCRIBE_CONCURRENCY_PER_CONNECTION: int(1, 1000).default(8).describe('Subscribes of one connection syncing or replaying at once'),
  /** Subscribes that may wait for admission, node-wide; past it a subscribe answers `overloaded`. */
  SUBSCRIBE_QUEUE: int(1, 10_000_000).default(100_000).describe('Subscribes that may wait on this node (overloaded past it)'),
  /** Channels with subscribers on this node (warm feeds, each with its ring); past it `too_many_channels`. */
  MAX_CHANNELS: int(1, 10_000_000).default(50_000).describe('Channels with subscribers on this node (too_many_channels past it)'),
  /** Channels one signal may be sent to. */
  MAX_CHANNELS_PER_SIGNAL: int(1, CHANNELS_PER_SIGNAL_CEILING).default(16).describe('Channels one signal may be sent to (1..256)'),
  /** Largest stored signal as JSON: with HISTORY_SIZE, what one channel may hold in Redis. */
  MAX_SIGNAL_BYTES: int(512, 1024 * 1024).default(16 * 1024).describe('Largest signal as stored (JSON bytes)'),
  /** Channels one publisher may create per minute (a channel is new when it has no history). */
  NEW_CHANNELS_PER_MINUTE: int(1, 10_000_000).default(1000).describe('Channels one publisher may create per minute (429 past it)'),
  /** Seconds of silence after which the server pings; a client silent for twice that is closed. */
  // uWS accepts an idle timeout (twice this) of 8 to 960 s, and aborts the process otherwise.
  HEARTBEAT_SECONDS: int(4, 480).default(16).describe('The server pings a client silent this long and drops one silent twice as long (4..480)'),
  /**
   * How far (ms) a socket's reader may fall behind what the server wrote to it before it is closed
   * with 4008 `lagging` (a conflated-only subscriber skips ahead instead). Below the heartbeat's
   * drop time (uWS drops a silent socket from 2 x HEARTBEAT_SECONDS - 4 s), so a reader that falls
   * behind is closed for lag, never dropped as silent.
   */
  MAX_LAG_MS: int(100, 60_000)
    .default(2000)
    .describe('How far (ms) a reader may fall behind before it is closed with 4008 lagging; conflated-only connections skip ahead (100..60000, at most (2 x HEARTBEAT_SECONDS - 5) s)'),
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
  // ---- security (README "Security") ----
  /** HS256 secret; tokens signed with it are accepted. */
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits) for HS256').optional().describe('HS256 secret of accepted JWTs (at least 32 chars)'),
  AUTH_JWT_PUBLIC_KEY_FILE: z.string().optional().describe('PEM public key of accepted JWTs: RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA); re-read on SIGHUP'),
  AUTH_JWT_JWKS_FILE: z.string().optional().describe('Local JWKS file of accepted JWTs (RS256, ES256, EdDSA); re-read on SIGHUP'),
  AUTH_JWT_ISSUER: z.string().min(1).optional().describe('Required iss of JWTs, when set'),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional().describe('Required aud of JWTs, when set'),
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS: int(0, 300).default(30).describe('Slack on exp and nbf for clocks that disagree'),
  AUTH_API_KEYS_FILE: z.string().optional().describe('JSON file of API key records [{name, sha256, scope}] (sigcast keys new); re-read on SIGHUP'),
  /** Without any auth configured, a HOST that is not loopback needs this. */
  ALLOW_ANONYMOUS: bool.default(false).describe('Allow serving without auth on a HOST that is not loopback'),
  ANONYMOUS_SCOPE: z.string().max(4096).optional().describe('Scopes of requests without a credential, e.g. "subscribe:*". Absent: everything without auth, nothing with auth'),
  /** Browser origins allowed besides sigcast's own pages: `scheme://host[:port]`, comma-separated, or `*`. */
  ALLOWED_ORIGINS: z
    .string()
    .transform((value, context) => {
      const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
      if (items.length === 1 && items[0] === '*') return 'any' as const;
      const origins: string[] = [];
      for (const item of items) {
        const origin = URL.canParse(item) ? new URL(item).origin : 'null';
        if (origin === 'null' || !/^https?:\/\/[^/]+\/?$/i.test(item)) {
          context.addIssue({ code: 'custom', message: `${JSON.stringify(item)} is not an origin (scheme://host[:port]); use a comma-separated list or *` });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    })
    .optional()
    .describe('Browser origins allowed besides same-host pages: scheme://host[:port], comma-separated, or *. Absent: only same-host pages'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional().describe('When set, /metrics needs Authorization: Bearer <METRICS_TOKEN>'),
  METRICS_PORT: int(0, 65535).optional().describe('When set, /metrics is served on this port (of METRICS_HOST) instead of the main one'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('Bind address of the METRICS_PORT listener'),
  /** Signals per second per publisher (a token bucket per principal, per node); 0: no limit. */
  PUBLISH_RATE: int(0, 10_000_000).default(0).describe('Signals per second per publisher on this node (429 past it); 0: no limit'),
  PUBLISH_BURST: int(1, 10_000_000).default(1000).describe('Signals a publisher may send at once above PUBLISH_RATE'),
  MAX_CONNECTIONS: int(1, 10_000_000).default(100_000).describe('Most WebSocket connections on this node (503 past it)'),
  MAX_CONNECTIONS_PER_IP: int(0, 10_000_000).default(0).describe('Most WebSocket connections from one client address (429 past it); 0: no limit'),
  TRUST_PROXY: bool.default(false).describe('Behind a proxy: the client address is the last X-Forwarded-For entry'),
  AUTH_FAILURE_BURST: int(1, 1_000_000).default(10).describe('Failed authentications from one address before its attempts are refused (429); one more per second'),
  /** Share PORT with other sigcast processes on this machine (SO_REUSEPORT), on purpose. */
  REUSE_PORT: bool.default(false).describe('Share PORT with other sigcast processes on this machine (each a full node on the shared Redis); needs REDIS_URL'),
  /** `sigcast serve --workers N`: N supervised processes sharing PORT. */
  WORKERS: int(1, 256).default(1).describe('Run this many supervised node processes sharing PORT (restarted when one dies); needs REDIS_URL and a fixed PORT'),
}).refine((config) => config.SEND_BUDGET_BYTES >= config.SEND_BUFFER_BYTES, {
  path: ['SEND_BUDGET_BYTES'],
  message: 'must be at least SEND_BUFFER_BYTES (one socket may hold that much)',
  ...unlessFailed('SEND_BUDGET_BYTES', 'SEND_BUFFER_BYTES'),
}).refine((config) => config.REDIS_TLS_CA_FILE === undefined || config.REDIS_CLUSTER_NODES !== undefined || config.REDIS_URL?.startsWith('rediss://') === true, {
  path: ['REDIS_TLS_CA_FILE'],
  message: 'needs REDIS_URL to be a rediss:// (TLS) URL',
  // zod skips object refinements once any field failed; run this one unless its own inputs did.
  ...unlessFailed('REDIS_URL', 'REDIS_TLS_CA_FILE', 'REDIS_CLUSTER_NODES'),
}).refine((config) => config.REDIS_TLS_CA_FILE === undefined || config.REDIS_CLUSTER_NODES === undefined || config.REDIS_CLUSTER_NODES.startsWith('rediss://'), {
  path: ['REDIS_TLS_CA_FILE'],
  message: 'needs REDIS_CLUSTER_NODES to be rediss://... (TLS) nodes',
  ...unlessFailed('REDIS_TLS_CA_FILE', 'REDIS_CLUSTER_NODES'),
}).refine((config) => config.REDIS_URL === undefined || config.REDIS_CLUSTER_NODES === undefined, {
  path: ['REDIS_CLUSTER_NODES'],
  message: 'cannot be set together with REDIS_URL: give one Redis (REDIS_URL) or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES)',
  ...unlessFailed('REDIS_URL', 'REDIS_CLUSTER_NODES'),
}).refine((config) => config.REDIS_ACK_REPLICAS === 0 || hasRedis(config), {
  path: ['REDIS_ACK_REPLICAS'],
  message: 'needs REDIS_URL or REDIS_CLUSTER_NODES: the embedded in-memory broker has no replicas',
  ...unlessFailed('REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_ACK_REPLICAS'),
}).refine((config) => config.REDIS_ACK_REPLICAS === 0 || config.REDIS_ACK_TIMEOUT_MS < config.REDIS_COMMAND_TIMEOUT_MS, {
  path: ['REDIS_ACK_TIMEOUT_MS'],
  message: 'must be below REDIS_COMMAND_TIMEOUT_MS: WAIT has to answer before the append itself times out',
  ...unlessFailed('REDIS_ACK_REPLICAS', 'REDIS_ACK_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS'),
}).refine((config) => isLoopbackHost(config.HOST) || authConfigured(config) || config.ALLOW_ANONYMOUS, {
  path: ['HOST'],
  message:
    'is not loopback and no auth is configured: set AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY_FILE, AUTH_JWT_JWKS_FILE or AUTH_API_KEYS_FILE, ' +
    'or ALLOW_ANONYMOUS=true to let anyone who reaches this address publish and subscribe',
  when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'HOST' || issue.path?.[0] === 'ALLOW_ANONYMOUS'),
}).refine((config) => config.MAX_LAG_MS <= maxLagForHeartbeat(config.HEARTBEAT_SECONDS), {
  path: ['MAX_LAG_MS'],
  message: 'must be at most (2 x HEARTBEAT_SECONDS - 5) s, so that lag closes a reader before any heartbeat drop',
  when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'MAX_LAG_MS' || issue.path?.[0] === 'HEARTBEAT_SECONDS'),
})
  .refine((config) => !config.REUSE_PORT || config.REDIS_URL !== undefined, {
    path: ['REUSE_PORT'],
    message: NEEDS_SHARED_BROKER,
    when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'REDIS_URL' || issue.path?.[0] === 'REUSE_PORT'),
  })
  .refine((config) => config.WORKERS === 1 || config.REDIS_URL !== undefined, {
    path: ['WORKERS'],
    message: NEEDS_SHARED_BROKER,
    when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'REDIS_URL' || issue.path?.[0] === 'WORKERS'),
  })
  .refine((config) => config.WORKERS === 1 || config.PORT !== 0, {
    path: ['PORT'],
    message: 'must be a fixed port with WORKERS > 1 (with 0 every worker would listen on a port of its own)',
    when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'PORT' || issue.path?.[0] === 'WORKERS'),
  });

/**
 * An IP literal or an RFC 1123 host name: anything else (`not_a_host`, a URL, a port) is a typo
 * that would otherwise surface as a bare "cannot listen".
 */
function isListenHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (host.length > 253) return false;
  return host.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

/** The largest MAX_LAG_MS a heartbeat allows: uWS may drop a silent socket 4 s early, plus 1 s of slack. */
export function maxLagForHeartbeat(heartbeatSeconds: number): number {
  return (2 * heartbeatSeconds - 5) * 1000;
}

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** Whether any credential source is configured (then requests need one, unless ANONYMOUS_SCOPE says otherwise). */
export function authConfigured(config: {
  AUTH_JWT_SECRET?: string | undefined;
  AUTH_JWT_PUBLIC_KEY_FILE?: string | undefined;
  AUTH_JWT_JWKS_FILE?: string | undefined;
  AUTH_API_KEYS_FILE?: string | undefined;
}): boolean {
  return [config.AUTH_JWT_SECRET, config.AUTH_JWT_PUBLIC_KEY_FILE, config.AUTH_JWT_JWKS_FILE, config.AUTH_API_KEYS_FILE].some((value) => value !== undefined);
}

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
        return `${key}${given === undefined ? ' (not set, so its default)' : `=${JSON.stringify(given)}`}: ${issue.message}`;
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
