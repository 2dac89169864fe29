import type { ClientOptions } from '../clients/adapter.js';
import { type Histogram, mergeEncoded, summarize } from '../lib/hist.js';
import type { PublisherReport, SubscriberReport } from '../load/ipc.js';
import { addCompleteness, emptyCompleteness, type Expected } from '../load/tracker.js';
import type { JobPlan, JobResult } from './types.js';

/** Pure helpers of the engine: splitting load, merging worker reports, reading metrics. */

export function clientOptions(plan: JobPlan, node: { http: string; ws: string }): ClientOptions {
  return { http: node.http, ws: node.ws, encoding: plan.encoding, publishVia: plan.publishVia, resume: plan.resume, batch: plan.batch };
}

/** Splits `total` into `parts` near-equal shares. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function mergeLastSeq(reports: readonly PublisherReport[], into: Expected = {}): Expected {
  for (const report of reports) {
    for (const [channel, seq] of Object.entries(report.lastSeq)) into[channel] = Math.max(into[channel] ?? 0, seq);
  }
  return into;
}

/** Adds the subscriber side of the workers' reports to `result`. */
export function addSubscriberReports(result: JobResult, reports: readonly SubscriberReport[], goAt: number): Histogram {
  const completeness = emptyCompleteness();
  const closes: Record<string, number> = {};
  let deliveries = 0;
  let lastAt = 0;
  let opened = 0;
  let failed = 0;
  let resumes = 0;
  const errors: string[] = [];
  for (const report of reports) {
    addCompleteness(completeness, report);
    for (const [code, count] of Object.entries(report.closes)) closes[code] = (closes[code] ?? 0) + count;
    deliveries += report.deliveries;
    lastAt = Math.max(lastAt, report.lastAt);
    opened += report.connections;
    failed += report.connectFailures;
    resumes += report.resumes;
    errors.push(...report.errors);
  }
  result.completeness = completeness;
  result.closes = closes;
  result.deliveries = deliveries;
  result.connections = { opened, failed };
  result.resumes = resumes;
  if (errors.length) result.errors = [...(result.errors ?? []), ...errors.slice(0, 5)];
  if (deliveries > 0 && lastAt > goAt) result.deliveriesPerSec = Math.round(deliveries / ((lastAt - goAt) / 1000));
  result.latency = summarize(mergeEncoded(reports.map((report) => report.latency)));
  const replay = mergeEncoded(reports.map((report) => report.replayDone));
  return replay;
}

export function addPublisherReports(result: JobResult, reports: readonly PublisherReport[]): void {
  if (reports.length === 0) return;
  const acked = reports.reduce((sum, report) => sum + report.acked, 0);
  const start = Math.min(...reports.map((report) => report.startedAt));
  const end = Math.max(...reports.map((report) => report.endedAt));
  result.acked = acked;
  result.publishSeconds = Math.round((end - start) / 10) / 100;
  result.ackedPerSec = end > start ? Math.round(acked / ((end - start) / 1000)) : 0;
  result.ackLatency = summarize(mergeEncoded(reports.map((report) => report.ackLatency)));
  result.lagWaits = reports.reduce((sum, report) => sum + report.lagWaits, 0);
  const errors = reports.flatMap((report) => report.errors);
  if (errors.length) result.errors = [...(result.errors ?? []), ...errors.slice(0, 5)];
}

/** Counters of a Prometheus text page, summed over label sets: `name -> value`. */
export function parsePrometheus(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) values[match[1]] = (values[match[1]] ?? 0) + value;
  }
  return values;
}

/** What moved in the counters that tell how a node coped (gap fills, slow consumers, drops, replays). */
export function metricsDelta(before: string, after: string): Record<string, number> {
  const a = parsePrometheus(before);
  const b = parsePrometheus(after);
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(b)) {
    if (!/gap|slow|drop|fill|resync|replay|disconnect|reconnect|entries|redis_commands|heartbeat|lag_skips/i.test(name) || /bucket|_sum$/.test(name)) continue;
    const change = value - (a[name] ?? 0);
    if (change !== 0) delta[name] = Math.round(change * 1000) / 1000;
  }
  return delta;
}
