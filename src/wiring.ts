// Every mapping from the validated configuration to a component's own options lives here, so
// that brokers and transports never see `Config`. Files named by the configuration (the Redis
// CA bundle) are read and checked here too, with errors that name their variable.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Broker } from './broker/broker.js';
import { MemoryBroker, type MemoryBrokerOptions } from './broker/memory-broker.js';
import type { BrokerLogger } from './broker/redis-connection.js';
import { createRedisBroker, type RedisBrokerOptions } from './broker/redis-broker.js';
import { ConfigError, type Config } from './config.js';
import type { Logger } from './log.js';
import { MAX_REPLAY } from './protocol/frames.js';
import { createTransport, type TransportChoice } from './transport/create-transport.js';
import type { Transport, TransportOptions } from './transport/transport.js';

export const WS_PATH = '/v1/ws';

export function memoryBrokerOptions(config: Config): MemoryBrokerOptions {
  return { historySize: config.HISTORY_SIZE, historyTtlMs: config.HISTORY_TTL_SECONDS * 1000 };
}

/**
 * RedisBroker options from the validated configuration; REDIS_URL must be set. Reads
 * REDIS_TLS_CA_FILE (loadConfig itself touches no file), throwing ConfigError when it cannot.
 */
export function redisBrokerOptionsFromConfig(config: Config, logger?: BrokerLogger): RedisBrokerOptions {
  if (config.REDIS_URL === undefined) throw new Error('REDIS_URL is not set');
  return {
    url: config.REDIS_URL,
    ...(config.REDIS_TLS_CA_FILE === undefined ? {} : { tlsCa: readTlsCaFile(config.REDIS_TLS_CA_FILE) }),
    keyPrefix: config.REDIS_KEY_PREFIX,
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL_SECONDS * 1000,
    retryBaseMs: config.REDIS_RETRY_BASE_MS,
    retryMaxMs: config.REDIS_RETRY_MAX_MS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    ...(logger ? { logger } : {}),
  };
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

/** The broker the configuration asks for: Redis when REDIS_URL is set, else the embedded one. */
export function brokerFromConfig(config: Config, log: Logger): Broker {
  if (config.REDIS_URL === undefined) {
    log.info('no REDIS_URL: using the embedded in-memory broker (one node, history lost on restart)');
    return new MemoryBroker(memoryBrokerOptions(config));
  }
  return createRedisBroker(redisBrokerOptionsFromConfig(config, log.child({ component: 'redis' })));
}

export function transportOptions(config: Config): TransportOptions {
  return {
    wsPath: WS_PATH,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxFrameBytes: config.MAX_FRAME_BYTES,
    sendBufferBytes: config.SEND_BUFFER_BYTES,
    heartbeatSeconds: config.HEARTBEAT_SECONDS,
  };
}

export function transportChoice(config: Config): TransportChoice {
  return { kind: config.TRANSPORT, allowUwsFallback: config.UWS_ALLOW_FALLBACK };
}

export function transportFromConfig(config: Config, log: Logger): Transport {
  return createTransport(transportChoice(config), transportOptions(config), log);
}

export function hubLimits(config: Config): { ringCapacity: number; maxReplay: number } {
  return { ringCapacity: config.HISTORY_SIZE, maxReplay: Math.min(MAX_REPLAY, config.HISTORY_SIZE) };
}

export function sessionLimits(config: Config): { maxFrameBytes: number; maxSubscriptions: number; maxBatch: number } {
  return { maxFrameBytes: config.MAX_FRAME_BYTES, maxSubscriptions: config.MAX_SUBSCRIPTIONS, maxBatch: config.MAX_BATCH };
}
