// The composition root: config -> logger -> broker -> transport -> hub -> sessions and routes,
// and shutdown in reverse. Every option comes from the wiring module.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Broker } from './broker/broker.js';
import type { Config } from './config.js';
import { listenMetrics, type MetricsListener } from './http/metrics-listener.js';
import { createMetricsRoutes, createRoutes } from './http/routes.js';
import { Hub } from './hub/hub.js';
import { Publisher } from './ingest/publisher.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { ConnectionSlots } from './limits/connection-slots.js';
import { ProtocolSession, type SessionAuth } from './session/protocol-session.js';
import { createUpgradeHandler } from './session/upgrade.js';
import type { CloseInfo, Connection, Session } from './transport/transport.js';
import type { Transport } from './transport/transport.js';
import { ListenError } from './transport/listen-error.js';
import { isLoopbackHost } from './util/loopback.js';
import { KeyFileError } from './auth/key-files.js';
import {
  accessGateFromConfig,
  authenticatorFromConfig,
  brokerFromConfig,
  connectionSlotOptions,
  hubLimits,
  keyFileProblem,
  listenFailure,
  publisherLimits,
  publishRateFromConfig,
  sessionLimits,
  transportFromConfig,
} from './wiring.js';

export { WS_PATH } from './wiring.js';

export interface SigcastNode {
  readonly port: number;
  /** The port of the /metrics listener, with METRICS_PORT. */
  readonly metricsPort?: number;
  readonly nodeId: string;
  readonly broker: Broker;
  readonly hub: Hub;
  readonly transport: Transport;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Graceful shutdown: stop accepting, finish in-flight ingest, close sockets with 1001, quit Redis. Idempotent. */
  stop(): Promise<void>;
  /**
   * Re-reads the key files (API keys, JWT public key, JWKS), as on SIGHUP: open connections stay.
   * False, with the problem logged, when a file is unusable: the keys in use then stay.
   */
  reloadKeys(): Promise<boolean>;
}

export async function startNode(config: Config, options: { log?: Logger } = {}): Promise<SigcastNode> {
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? createLogger(config, { node: nodeId });
  const metrics = new Metrics();
  // Key files first: a bad one stops the node before anything is started.
  const authenticator = await authenticatorFromConfig(config);
  const gate = accessGateFromConfig(config, authenticator);
  const slots = new ConnectionSlots(connectionSlotOptions(config));
  const broker = brokerFromConfig(config, log, metrics);
  const publisher = new Publisher(broker, metrics, publisherLimits(config), log, publishRateFromConfig(config));
  const transport = transportFromConfig(config, log);
  const hub = new Hub({ broker, fanOut: transport, ...hubLimits(config), log, metrics });
  metrics.readFrom({
    sendBufferedBytes: () => transport.bufferedBytes,
    brokerSubscriptions: () => broker.liveSubscriptions,
    subscribesWaiting: () => hub.admissions.waiting,
  });
  let closing = false;

  const sessionContext = { hub, publisher, log, metrics, nodeId, limits: sessionLimits(config), heartbeatSeconds: config.HEARTBEAT_SECONDS };
  const sessions = (connection: Connection, auth?: SessionAuth): Session =>
    new CountedSession(new ProtocolSession(connection, sessionContext, auth), connection, { metrics, log, transport: transport.name });
  const upgrade = createUpgradeHandler({ gate, slots, metrics, log, open: sessions });
  const access = {
    gate,
    ...(config.METRICS_TOKEN !== undefined ? { metricsToken: config.METRICS_TOKEN } : {}),
    metricsElsewhere: config.METRICS_PORT !== undefined,
  };
  const http = createRoutes({ broker, publisher, metrics, log, isClosing: () => closing, resyncingChannels: () => hub.resyncingChannels(), access });

  // Start ready when the store is up; when it is not, start anyway and answer 503 until it is.
  const connected = await withTimeout(broker.ready().then(() => true), config.REDIS_COMMAND_TIMEOUT_MS);
  if (!connected) log.warn('the broker is not reachable yet: ingest answers 503 and /readyz fails until it is');
  const observeLag = (lagMs: number) => metrics.lag.observe(lagMs / 1000);
  const port = await transport.listen(config.HOST, config.PORT, { http, sessions, upgrade, observeLag }).catch(async (error: unknown) => {
    // Not listening: release what was started (the broker's connections) before saying why.
    hub.close();
    await broker.close();
    throw error instanceof ListenError ? listenFailure(error, config) : error;
  });
  let metricsListener: MetricsListener | undefined;
  if (config.METRICS_PORT !== undefined) {
    metricsListener = await listenMetrics(config.METRICS_HOST, config.METRICS_PORT, createMetricsRoutes({ metrics, log, access })).catch(async (error: unknown) => {
      await transport.close(0);
      hub.close();
      await broker.close();
      throw error instanceof ListenError ? listenFailure(error, config, { host: 'METRICS_HOST', port: 'METRICS_PORT', shared: false }) : error;
    });
    log.info({ host: config.METRICS_HOST, port: metricsListener.port }, 'serving /metrics on its own address');
  }
  log.info({ port, host: config.HOST, transport: transport.name, broker: broker.kind, nodeId }, 'listening');
  if (authenticator.configured) log.info({ anonymous: authenticator.allowsAnonymous ? config.ANONYMOUS_SCOPE : 'refused' }, 'auth is on');
  else if (isLoopbackHost(config.HOST)) log.info('no auth is configured: listening on loopback only');
  else log.warn({ host: config.HOST }, 'ALLOW_ANONYMOUS=true and no auth is configured: anyone who reaches this address can publish and subscribe');

  const reloadKeys = async (): Promise<boolean> => {
    try {
      await authenticator.reload();
      log.info('key files reloaded');
      return true;
    } catch (error) {
      const problem = error instanceof KeyFileError ? keyFileProblem(error) : String(error);
      log.error({ problem }, 'key files not reloaded: the keys in use stay');
      return false;
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Every step is bounded so that the whole shutdown ends within SHUTDOWN_GRACE_SECONDS.
      const budget = shutdownBudget(config.SHUTDOWN_GRACE_SECONDS * 1000);
      const started = performance.now();
      const left = (reserveMs: number) => Math.max(0, budget.totalMs - reserveMs - (performance.now() - started));
      closing = true;
      log.info({ graceSeconds: config.SHUTDOWN_GRACE_SECONDS }, 'shutting down: no new connections or requests');
      transport.stopListening();
      const idle = await withTimeout(publisher.idle().then(() => true), left(budget.closeMs + budget.brokerMs));
      if (!idle) log.warn('shutdown grace ran out with ingest still waiting for Redis: those requests are answered 503 or dropped');
      // Let the answers of the last publishes be written before their sockets go.
      await new Promise((resolve) => setImmediate(resolve));
      log.info({ connections: transport.connectionCount }, 'closing WebSockets with 1001');
      await transport.close(Math.min(budget.closeMs, left(budget.brokerMs)));
      hub.close();
      await withTimeout(broker.close().then(() => true), left(0));
      await withTimeout((metricsListener?.close() ?? Promise.resolve()).then(() => true), left(0));
      log.info('stopped');
    })());

  return { port, ...(metricsListener ? { metricsPort: metricsListener.port } : {}), nodeId, broker, hub, transport, metrics, log, stop, reloadKeys };
}

/**
 * A session as the transport sees it: the protocol session, plus the node's counting of
 * connections, closes and lag skips. A class rather than an object of closures: one of these
 * lives as long as its connection, and methods on a prototype cost a connection nothing.
 */
class CountedSession implements Session {
  private readonly kind: { transport: string; encoding: string };

  constructor(
    private readonly session: ProtocolSession,
    private readonly connection: Connection,
    private readonly node: { metrics: Metrics; log: Logger; transport: string },
  ) {
    this.kind = { transport: node.transport, encoding: connection.encoding };
    node.metrics.connections.inc(this.kind);
  }

  onMessage(data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    this.session.onMessage(data, isBinary);
  }

  onClose(close: CloseInfo): void {
    this.node.metrics.connections.dec(this.kind);
    countClose(this.node.metrics, this.node.log, this.connection, close);
    this.session.onClose();
  }

  onLagging(): boolean {
    const skipped = this.session.onLagging();
    if (skipped) this.node.metrics.lagSkips.inc();
    return skipped;
  }
}

/** Metrics and logs read the typed cause of a close, the same on both transports. */
function countClose(metrics: Metrics, log: Logger, connection: Connection, close: CloseInfo): void {
  metrics.closes.inc({ cause: close.cause });
  if (close.cause === 'heartbeat') metrics.heartbeatTimeouts.inc();
  if (close.cause === 'slow_consumer') {
    metrics.slowConsumerDisconnects.inc();
    log.warn({ connection: connection.id, code: close.code }, 'closed a slow consumer');
  }
  if (close.cause === 'lag') {
    metrics.lagDisconnects.inc();
    log.warn({ connection: connection.id, code: close.code }, 'closed a lagging reader');
  }
}

/**
 * How SHUTDOWN_GRACE_SECONDS is spent: in-flight ingest may use all of it but what is reserved
 * for the close handshakes (clients answering 1001) and for quitting Redis.
 */
export function shutdownBudget(graceMs: number): { totalMs: number; closeMs: number; brokerMs: number } {
  return { totalMs: graceMs, closeMs: Math.min(1000, graceMs / 4), brokerMs: Math.min(500, graceMs / 4) };
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
