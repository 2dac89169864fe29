import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Principals named in metric labels at most; later ones count as `other` (bounded cardinality). */
const MAX_PRINCIPAL_LABELS = 1000;

/** What some gauges read when scraped: how much the transport, broker and hub hold right now. */
export interface LiveReadings {
  sendBufferedBytes(): number;
  brokerSubscriptions(): number;
  subscribesWaiting(): number;
}

/** Prometheus metrics of one node, on its own registry (so several nodes can live in one test process). */
export class Metrics {
  readonly registry = new Registry();
  private readings: LiveReadings = { sendBufferedBytes: () => 0, brokerSubscriptions: () => 0, subscribesWaiting: () => 0 };
  readonly sendBuffered: Gauge = new Gauge({
    name: 'sigcast_send_buffered_bytes',
    help: 'Bytes waiting in the send buffers of all sockets (at the last slow-consumer sweep; bounded by SEND_BUDGET_BYTES)',
    registers: [this.registry],
    collect: (): void => this.sendBuffered.set(this.readings.sendBufferedBytes()),
  });
  readonly brokerSubscriptions: Gauge = new Gauge({
    name: 'sigcast_broker_subscriptions',
    help: 'Live subscriptions the broker holds in its store (Redis pub/sub channels); equals sigcast_channels when settled',
    registers: [this.registry],
    collect: (): void => this.brokerSubscriptions.set(this.readings.brokerSubscriptions()),
  });
  readonly subscribesWaiting: Gauge = new Gauge({
    name: 'sigcast_subscribes_waiting',
    help: 'Subscribes waiting for admission (bounded by SUBSCRIBE_QUEUE)',
    registers: [this.registry],
    collect: (): void => this.subscribesWaiting.set(this.readings.subscribesWaiting()),
  });
  readonly connections = new Gauge({ name: 'sigcast_connections', help: 'Open WebSocket connections, by transport and encoding', labelNames: ['transport', 'encoding'], registers: [this.registry] });
  readonly subscriptions = new Gauge({ name: 'sigcast_subscriptions', help: 'Active channel subscriptions on this node', registers: [this.registry] });
  readonly channels = new Gauge({ name: 'sigcast_channels', help: 'Channels with local subscribers (warm feeds)', registers: [this.registry] });
  readonly entriesIn = new Counter({ name: 'sigcast_entries_in_total', help: 'Signals stored (acknowledged) through this node, by the encoding they came in', labelNames: ['encoding'], registers: [this.registry] });
  readonly ingestInFlight = new Gauge({ name: 'sigcast_ingest_in_flight', help: 'Publish requests waiting for the broker', registers: [this.registry] });
  readonly duplicatesIn = new Counter({ name: 'sigcast_duplicates_in_total', help: 'Re-sent signals recognized by id and not stored again', registers: [this.registry] });
  readonly entriesOut = new Counter({ name: 'sigcast_entries_out_total', help: 'Live entries fanned out (entries x subscribers), by encoding', labelNames: ['encoding'], registers: [this.registry] });
  readonly replays = new Counter({
    name: 'sigcast_replays_total',
    help: 'Subscriptions served with a replay: from memory (a warm channel) or from Redis (the first subscriber of a cold one)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly replayedEntries = new Counter({ name: 'sigcast_replayed_entries_total', help: 'Entries sent as replay, by source (memory, redis)', labelNames: ['source'], registers: [this.registry] });
  readonly resets = new Counter({ name: 'sigcast_resets_total', help: 'Reset frames (position truncated or epoch changed)', labelNames: ['reason'], registers: [this.registry] });
  readonly gapFills = new Counter({ name: 'sigcast_gap_fills_total', help: 'Catch-ups from history after a hole or an epoch change in the live stream', registers: [this.registry] });
  readonly resyncs = new Counter({ name: 'sigcast_resyncs_total', help: 'Channels re-synced from history after a broker reconnect', registers: [this.registry] });
  readonly slowConsumerDisconnects = new Counter({ name: 'sigcast_slow_consumer_disconnects_total', help: 'Sockets closed for exceeding their send buffer', registers: [this.registry] });
  readonly lagDisconnects = new Counter({ name: 'sigcast_lag_disconnects_total', help: 'Sockets closed for falling further behind than MAX_LAG_MS', registers: [this.registry] });
  readonly lagSkips = new Counter({ name: 'sigcast_lag_skips_total', help: 'Conflated-only sockets that fell behind MAX_LAG_MS and skipped to the newest entries instead of being closed', registers: [this.registry] });
  readonly lag = new Histogram({
    name: 'sigcast_lag_seconds',
    help: 'Round trip of lag probes: how long each socket took to read what was written to it before the probe',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [this.registry],
  });
  readonly conflatedReplaced = new Counter({
    name: 'sigcast_conflated_replaced_total',
    help: 'Entries that conflated subscriptions did not get because a newer one replaced them (entries x subscribers)',
    registers: [this.registry],
  });
  readonly heartbeatTimeouts = new Counter({ name: 'sigcast_heartbeat_timeouts_total', help: 'Sockets closed for not answering pings', registers: [this.registry] });
  readonly closes = new Counter({
    name: 'sigcast_closes_total',
    help: 'WebSocket connections closed, by cause (heartbeat, slow_consumer, lag, peer, shutdown, protocol, auth)',
    labelNames: ['cause'],
    registers: [this.registry],
  });
  readonly protocolErrors = new Counter({ name: 'sigcast_protocol_errors_total', help: 'Error frames and HTTP errors sent, by code', labelNames: ['code'], registers: [this.registry] });
  readonly brokerReconnects = new Counter({ name: 'sigcast_broker_reconnects_total', help: 'Broker reconnections (each triggers a re-sync)', registers: [this.registry] });
  readonly brokerLatency = new Histogram({
    name: 'sigcast_broker_append_seconds',
    help: 'Latency of one append script call',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly redisCommands = new Histogram({
    name: 'sigcast_redis_command_seconds',
    help: 'Latency of Redis commands, by command (append, history, subscribe, unsubscribe, ping) and outcome (ok, error)',
    labelNames: ['command', 'outcome'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [this.registry],
  });
  readonly ingestLatency = new Histogram({
    name: 'sigcast_ingest_seconds',
    help: 'Publish requests from arrival to answer, by transport (http, ws) and outcome (ack, error)',
    labelNames: ['via', 'outcome'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10],
    registers: [this.registry],
  });
  private eventLoop: EventLoopUtilization = performance.eventLoopUtilization();
  readonly eventLoopUtilization = new Gauge({
    name: 'sigcast_event_loop_utilization',
    help: 'Share of time the event loop was busy (0..1) since the previous scrape',
    registers: [this.registry],
    collect: () => {
      const now = performance.eventLoopUtilization();
      this.eventLoopUtilization.set(performance.eventLoopUtilization(now, this.eventLoop).utilization);
      this.eventLoop = now;
    },
  });

  readonly principalSignalsIn = new Counter({
    name: 'sigcast_principal_signals_in_total',
    help: `Signals stored, by publishing principal (anonymous, key:<name>, jwt:<sub>; past ${MAX_PRINCIPAL_LABELS} principals: other)`,
    labelNames: ['principal'],
    registers: [this.registry],
  });
  private readonly principalLabels = new Set<string>();

  /** The label of a principal: its name, or `other` once MAX_PRINCIPAL_LABELS names are in use. */
  principalLabel(principal: string): string {
    if (this.principalLabels.has(principal)) return principal;
    if (this.principalLabels.size >= MAX_PRINCIPAL_LABELS) return 'other';
    this.principalLabels.add(principal);
    return principal;
  }

  constructor() {
    // Process RSS and heap, event-loop lag (sigcast_nodejs_eventloop_lag_*), GC, handles.
    collectDefaultMetrics({ register: this.registry, prefix: 'sigcast_' });
  }

  /** Where the live gauges read from (the composition root binds them once its parts exist). */
  readFrom(readings: LiveReadings): void {
    this.readings = readings;
  }
}
