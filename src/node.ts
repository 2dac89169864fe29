import { hostname } from 'node:os';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { createRedisBroker, redisBrokerOptionsFromConfig } from './broker/redis-broker.js';
import type { Config } from './config.js';
import { CLOSE } from './errors.js';
import { createRoutes } from './http/routes.js';
import { Hub } from './hub/hub.js';
import { Publisher } from './ingest/publisher.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { MAX_REPLAY } from './protocol/frames.js';
import { ProtocolSession } from './protocol/session.js';
import { createTransport } from './transport/create-transport.js';
import { HEARTBEAT_TIMEOUT_REASON } from './transport/limits.js';
import type { Transport } from './transport/transport.js';

export const WS_PATH = '/v1/ws';

export interface SigcastNode {
  readonly port: number;
  readonly nodeId: string;
  readonly broker: Broker;
  readonly hub: Hub;
  readonly transport: Transport;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Graceful shutdown: stop accepting, finish in-flight ingest, close sockets with 1001, quit Redis. Idempotent. */
  stop(): Promise<void>;
}

/** The composition root: config -> logger -> broker -> hub -> transport, and shutdown in reverse. */
export async function startNode(config: Config, options: { log?: Logger } = {}): Promise<SigcastNode> {
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? createLogger(config, { node: nodeId });
  const metrics = new Metrics();
  const broker = createBroker(config, log);
  const publisher = new Publisher(broker, metrics, config.MAX_BATCH);
  let transport: Transport | undefined;
  let closing = false;

  const hub = new Hub({
    broker,
    publish: (topic, frames) => transport?.publish(topic, frames),
    ringCapacity: config.HISTORY_SIZE,
    maxReplay: Math.min(MAX_REPLAY, config.HISTORY_SIZE),
    log,
    metrics,
  });
  const limits = { maxFrameBytes: config.MAX_FRAME_BYTES, maxSubscriptions: config.MAX_SUBSCRIPTIONS, maxBatch: config.MAX_BATCH };
  transport = createTransport(config, log, {
    wsPath: WS_PATH,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxFrameBytes: config.MAX_FRAME_BYTES,
    sendBufferBytes: config.SEND_BUFFER_BYTES,
    heartbeatSeconds: config.HEARTBEAT_SECONDS,
    http: createRoutes({ broker, publisher, metrics, log, isClosing: () => closing, isReady: () => true }),
    sessions: (connection) => {
      metrics.connections.inc();
      const session = new ProtocolSession(connection, { hub, publisher, log, metrics, nodeId, limits, heartbeatSeconds: config.HEARTBEAT_SECONDS });
      return {
        onMessage: (data, isBinary) => session.onMessage(data, isBinary),
        onClose: (_code, reason) => {
          metrics.connections.dec();
          // Both transports report a heartbeat drop with the same reason (uWS's own words).
          if (reason === HEARTBEAT_TIMEOUT_REASON) metrics.heartbeatTimeouts.inc();
          session.onClose();
        },
      };
    },
    onSlowConsumer: (connection) => {
      metrics.slowConsumerDisconnects.inc();
      log.warn({ connection: connection.id }, 'closing a slow consumer');
    },
  });

  // Start ready when the store is up; when it is not, start anyway and answer 503 until it is.
  const connected = await withTimeout(broker.ready().then(() => true), config.REDIS_COMMAND_TIMEOUT_MS);
  if (!connected) log.warn('the broker is not reachable yet: ingest answers 503 and /readyz fails until it is');
  const port = await transport.listen(config.HOST, config.PORT);
  log.info({ port, host: config.HOST, transport: transport.name, broker: broker.kind, nodeId }, 'listening');
  if (isLoopback(config.HOST)) log.info('no auth is configured: listening on loopback only');
  else log.warn({ host: config.HOST }, 'no auth is configured and HOST is not loopback: anyone who reaches this port can publish and subscribe');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      closing = true;
      log.info('shutting down');
      transport!.stopListening();
      await withTimeout(publisher.idle(), config.SHUTDOWN_GRACE_SECONDS * 1000);
      await transport!.close(CLOSE.going_away.code, CLOSE.going_away.reason);
      hub.close();
      await broker.close();
      log.info('stopped');
    })());

  return { port, nodeId, broker, hub, transport, metrics, log, stop };
}

function createBroker(config: Config, log: Logger): Broker {
  if (config.REDIS_URL === undefined) {
    log.info('no REDIS_URL: using the embedded in-memory broker (one node, history lost on restart)');
    return new MemoryBroker({ historySize: config.HISTORY_SIZE, historyTtlMs: config.HISTORY_TTL_SECONDS * 1000 });
  }
  return createRedisBroker(redisBrokerOptionsFromConfig(config, log.child({ component: 'redis' })));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The promise's value, or undefined when it did not settle in time (or failed). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
