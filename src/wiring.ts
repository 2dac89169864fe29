// Every mapping from the validated configuration to a component's own options lives here, so
// that brokers and transports never see `Config`. Files named by the configuration (the Redis
// CA bundle) are read and checked here too, with errors that name their variable.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Authenticator } from './auth/authenticator.js';
import { AccessGate } from './auth/gate.js';
import { KeyFileError, type KeyFileName } from './auth/key-files.js';
import type { OriginOptions } from './auth/origin.js';
import { ALL_SCOPES, parseScopeStrict, type Scopes } from './auth/scope.js';
import type { Broker } from './broker/broker.js';
import { MemoryBroker, type MemoryBrokerOptions } from './broker/memory-broker.js';
import type { BrokerLogger, CommandObserver } from './broker/redis-connection.js';
import { createRedisBroker, type RedisBrokerOptions } from './broker/redis-broker.js';
import { authConfigured, ConfigError, type Config } from './config.js';
import { AuthThrottle } from './limits/auth-throttle.js';
import type { ConnectionSlotsOptions } from './limits/connection-slots.js';
import { KeyedBuckets } from './limits/keyed-buckets.js';
import type { HubOptions } from './hub/hub.js';
import type { PublisherLimits } from './ingest/publisher.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { MAX_REPLAY } from './protocol/frames.js';
import { createTransport, type TransportChoice } from './transport/create-transport.js';
import type { ListenError } from './transport/listen-error.js';
import { replayWindowBytes } from './transport/limits.js';
import type { Transport, TransportOptions } from './transport/transport.js';
import { isLoopbackHost } from './util/loopback.js';

export const WS_PATH = '/v1/ws';

export function memoryBrokerOptions(config: Config): MemoryBrokerOptions {
  return { historySize: config.HISTORY_SIZE, historyTtlMs: config.HISTORY_TTL_SECONDS * 1000 };
}

/**
 * RedisBroker options from the validated configuration; REDIS_URL or REDIS_CLUSTER_NODES must be
 * set. Reads REDIS_TLS_CA_FILE (loadConfig itself touches no file), throwing ConfigError when it cannot.
 */
export function redisBrokerOptionsFromConfig(config: Config, logger?: BrokerLogger, metrics?: Metrics): RedisBrokerOptions {
  if (config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined) throw new Error('neither REDIS_URL nor REDIS_CLUSTER_NODES is set');
  return {
    ...(config.REDIS_URL === undefined ? {} : { url: config.REDIS_URL }),
    ...(config.REDIS_CLUSTER_NODES === undefined ? {} : { clusterNodes: config.REDIS_CLUSTER_NODES }),
    ...(config.REDIS_TLS_CA_FILE === undefined ? {} : { tlsCa: readTlsCaFile(config.REDIS_TLS_CA_FILE) }),
    keyPrefix: config.REDIS_KEY_PREFIX,
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL_SECONDS * 1000,
    retryBaseMs: config.REDIS_RETRY_BASE_MS,
    retryMaxMs: config.REDIS_RETRY_MAX_MS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    ackReplicas: config.REDIS_ACK_REPLICAS,
    ackTimeoutMs: config.REDIS_ACK_TIMEOUT_MS,
    ...(logger ? { logger } : {}),
    ...(metrics ? { observeCommand: commandObserver(metrics) } : {}),
  };
}

function commandObserver(metrics: Metrics): CommandObserver {
  return (command, seconds, ok) => metrics.redisCommands.observe({ command, outcome: ok ? 'ok' : 'error' }, seconds);
}

/** The PEM CA bundle at REDIS_TLS_CA_FILE; a ConfigError naming the variable when it is unusable. */
export function readTlsCaFile(path: string): string {
  const problem = (what: string) => new ConfigError([`REDIS_TLS_CA_FILE=${JSON.stringify(path)}: ${what}`]);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw problem(`cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  // Node's TLS silently skips what it cannot parse in `ca`, which would surface only as failed
  // handshakes later: check every certificate now.
  const certificates = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) throw problem('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  certificates.forEach((certificate, index) => {
    try {
      new X509Certificate(certificate);
    } catch (error) {
      throw problem(`certificate ${index + 1} is not valid (${error instanceof Error ? error.message : String(error)})`);
    }
  });
  return pem;
}

/** The broker the configuration asks for: Redis (one, or a cluster) when set, else the embedded one. */
export function brokerFromConfig(config: Config, log: Logger, metrics?: Metrics): Broker {
  if (config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined) {
    log.info('no REDIS_URL or REDIS_CLUSTER_NODES: using the embedded in-memory broker (one node, history lost on restart)');
    return new MemoryBroker(memoryBrokerOptions(config));
  }
  return createRedisBroker(redisBrokerOptionsFromConfig(config, log.child({ component: 'redis' }), metrics));
}

export function transportOptions(config: Config): TransportOptions {
  return {
    wsPath: WS_PATH,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxUrlBytes: config.MAX_URL_BYTES,
    maxHeaderBytes: config.MAX_HEADER_BYTES,
    maxFrameBytes: config.MAX_FRAME_BYTES,
    sendBufferBytes: config.SEND_BUFFER_BYTES,
    sendBudgetBytes: config.SEND_BUDGET_BYTES,
    heartbeatSeconds: config.HEARTBEAT_SECONDS,
    maxLagMs: config.MAX_LAG_MS,
    reusePort: config.REUSE_PORT,
  };
}

export function transportChoice(config: Config): TransportChoice {
  return { kind: config.TRANSPORT, allowUwsFallback: config.UWS_ALLOW_FALLBACK };
}

export function transportFromConfig(config: Config, log: Logger): Transport {
  if (config.REUSE_PORT && config.TRANSPORT === 'ws' && !nodeSharesPorts(process.versions.node)) {
    throw new ConfigError([
      `REUSE_PORT="true": needs TRANSPORT=uws on Node ${process.versions.node} (node:http shares a port from Node 22.12 on)`,
    ]);
  }
  return createTransport(transportChoice(config), transportOptions(config), log);
}

/** node:net's `reusePort` listen option exists from Node 22.12 and 23.1 on; older ones ignore it. */
export function nodeSharesPorts(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/** The variables that name a listener's address: the main one, or METRICS_HOST/METRICS_PORT. */
export interface ListenVariables {
  host: string;
  port: string;
  /** Whether this listener shares its port on purpose (REUSE_PORT). */
  shared: boolean;
}

/**
 * A listener that could not listen, as a ConfigError naming the variable to change: the port is
 * taken (PORT, REUSE_PORT), the host is not an address of this machine or does not resolve (HOST).
 */
export function listenFailure(error: ListenError, config: Config, names: ListenVariables = { host: 'HOST', port: 'PORT', shared: config.REUSE_PORT }): ConfigError {
  const where = `${error.host}:${error.port}`;
  const port = `${names.port}=${error.port}`;
  const host = `${names.host}=${JSON.stringify(error.host)}`;
  switch (error.problem) {
    case 'address_in_use':
      if (names.port !== 'PORT') return new ConfigError([`${port}: ${where} is already in use by another process; choose a free ${names.port}`]);
      return new ConfigError([
        names.shared
          ? `${port}: ${where} is held by a process that does not share it (REUSE_PORT=true shares a port only with processes that set it too)`
          : `${port}: ${where} is already in use by another process; choose a free PORT, or set REUSE_PORT=true on every sigcast process meant to share it`,
      ]);
    case 'address_not_available':
      return new ConfigError([`${host}: is not an address of this machine (cannot listen on ${where})`]);
    case 'host_not_found':
      return new ConfigError([`${host}: does not resolve to an address (cannot listen on ${where})`]);
    case 'permission_denied':
      return new ConfigError([`${port}: not allowed to listen on ${where} (ports below 1024 need privileges)`]);
    case 'unknown':
      return new ConfigError([`${host}, ${port}: cannot listen on ${where}`]);
  }
}

export function hubLimits(config: Config): Pick<HubOptions, 'ringCapacity' | 'maxReplay' | 'maxChannels' | 'replayWindowBytes' | 'admission'> {
  return {
    ringCapacity: config.HISTORY_SIZE,
    maxReplay: Math.min(MAX_REPLAY, config.HISTORY_SIZE),
    maxChannels: config.MAX_CHANNELS,
    replayWindowBytes: replayWindowBytes(config.SEND_BUFFER_BYTES),
    admission: {
      concurrency: config.SUBSCRIBE_CONCURRENCY,
      perConnection: config.SUBSCRIBE_CONCURRENCY_PER_CONNECTION,
      maxQueued: config.SUBSCRIBE_QUEUE,
    },
  };
}

export function publisherLimits(config: Config): PublisherLimits {
  return {
    maxBatch: config.MAX_BATCH,
    maxChannelsPerSignal: config.MAX_CHANNELS_PER_SIGNAL,
    maxSignalBytes: config.MAX_SIGNAL_BYTES,
    newChannelsPerMinute: config.NEW_CHANNELS_PER_MINUTE,
  };
}

export function sessionLimits(config: Config): { maxFrameBytes: number; maxSubscriptions: number; maxBatch: number } {
  return { maxFrameBytes: config.MAX_FRAME_BYTES, maxSubscriptions: config.MAX_SUBSCRIPTIONS, maxBatch: config.MAX_BATCH };
}

// ---- security ----

/** The variable that names each key file, for errors about it. */
export const KEY_FILE_VARIABLES: Record<KeyFileName, string> = {
  apiKeysFile: 'AUTH_API_KEYS_FILE',
  jwtPublicKeyFile: 'AUTH_JWT_PUBLIC_KEY_FILE',
  jwtJwksFile: 'AUTH_JWT_JWKS_FILE',
};

/** A key file problem in configuration words: the variable, its value, what is wrong. */
export function keyFileProblem(error: KeyFileError): string {
  return `${KEY_FILE_VARIABLES[error.file]}=${JSON.stringify(error.path)}: ${error.problem}`;
}

/**
 * What a request without a credential may do: ANONYMOUS_SCOPE when set; otherwise everything
 * when no auth is configured (loopback, or ALLOW_ANONYMOUS), and nothing (401) when it is.
 */
export function anonymousScopes(config: Config): Scopes | undefined {
  if (config.ANONYMOUS_SCOPE !== undefined) {
    try {
      return parseScopeStrict(config.ANONYMOUS_SCOPE);
    } catch (error) {
      throw new ConfigError([`ANONYMOUS_SCOPE=${JSON.stringify(config.ANONYMOUS_SCOPE)}: ${error instanceof Error ? error.message : String(error)}`]);
    }
  }
  return authConfigured(config) ? undefined : ALL_SCOPES;
}

/** The authenticator, its key files read and checked (ConfigError naming the variable when one is unusable). */
export async function authenticatorFromConfig(config: Config): Promise<Authenticator> {
  const anonymous = anonymousScopes(config);
  try {
    return await Authenticator.create({
      ...(config.AUTH_JWT_SECRET !== undefined ? { jwtSecret: config.AUTH_JWT_SECRET } : {}),
      jwtPolicy: {
        ...(config.AUTH_JWT_ISSUER !== undefined ? { issuer: config.AUTH_JWT_ISSUER } : {}),
        ...(config.AUTH_JWT_AUDIENCE !== undefined ? { audience: config.AUTH_JWT_AUDIENCE } : {}),
        clockToleranceSeconds: config.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
      },
      files: {
        ...(config.AUTH_API_KEYS_FILE !== undefined ? { apiKeysFile: config.AUTH_API_KEYS_FILE } : {}),
        ...(config.AUTH_JWT_PUBLIC_KEY_FILE !== undefined ? { jwtPublicKeyFile: config.AUTH_JWT_PUBLIC_KEY_FILE } : {}),
        ...(config.AUTH_JWT_JWKS_FILE !== undefined ? { jwtJwksFile: config.AUTH_JWT_JWKS_FILE } : {}),
      },
      ...(anonymous ? { anonymous } : {}),
    });
  } catch (error) {
    if (error instanceof KeyFileError) throw new ConfigError([keyFileProblem(error)]);
    throw error;
  }
}

export function originOptions(config: Config): OriginOptions {
  return { allowedOrigins: config.ALLOWED_ORIGINS ?? [], loopbackOnly: isLoopbackHost(config.HOST) };
}

export function accessGateFromConfig(config: Config, authenticator: Authenticator): AccessGate {
  return new AccessGate({
    authenticator,
    origins: originOptions(config),
    throttle: new AuthThrottle({ burst: config.AUTH_FAILURE_BURST }),
    trustProxy: config.TRUST_PROXY,
  });
}

export function connectionSlotOptions(config: Config): ConnectionSlotsOptions {
  return { maxTotal: config.MAX_CONNECTIONS, maxPerAddress: config.MAX_CONNECTIONS_PER_IP };
}

/** Publishers (principals, anonymous ones by address) remembered by the publish-rate limiter at most. */
const MAX_RATE_KEYS = 100_000;

/** The per-publisher token buckets of PUBLISH_RATE / PUBLISH_BURST; undefined when PUBLISH_RATE is 0. */
export function publishRateFromConfig(config: Config): KeyedBuckets | undefined {
  if (config.PUBLISH_RATE === 0) return undefined;
  return new KeyedBuckets({ rate: config.PUBLISH_RATE, burst: config.PUBLISH_BURST, maxKeys: MAX_RATE_KEYS });
}
