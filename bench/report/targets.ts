import type { SystemName } from '../lib/variants.js';
import type { JobResult } from '../scenarios/types.js';
import { boundBy } from './bound.js';

/** Issues 4 and 13's targets, judged from one run's results. */
export interface TargetVerdict {
  scenario: string;
  target: string;
  /** undefined: could not be judged in this run (a system or the scenario did not run). */
  met: boolean | undefined;
  detail: string;
}

const find = (results: readonly JobResult[], scenario: string, system: SystemName): JobResult | undefined =>
  results.find((r) => r.scenario === scenario && r.system === system && r.status === 'ok');

/** Says who set the pace of a job when it was not the system itself (the load generator, the machine). */
function boundNote(result: JobResult, who: string = result.system): string {
  const bound = boundBy(result.cpu?.busy);
  return bound && !bound.startsWith('server') ? `; ${who} bound by ${bound}` : '';
}

export function judgeTargets(results: readonly JobResult[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const fanout = find(results, 'fanout', 'sigcast');
  const raw = find(results, 'fanout', 'raw-uws');
  if (fanout?.deliveriesPerSec !== undefined) {
    const s = fanout.deliveriesPerSec;
    if (raw?.deliveriesPerSec) {
      const ratio = s / raw.deliveriesPerSec;
      const cpu = `server CPU ${fanout.cpu?.usPerDelivery} vs ${raw.cpu?.usPerDelivery} us/delivery`;
      verdicts.push({ scenario: 'fanout', target: 'deliveries/s >= 0.9 x raw uWS', met: ratio >= 0.9, detail: `${s}/s vs ${raw.deliveriesPerSec}/s = ${ratio.toFixed(2)} x (${cpu})${boundNote(fanout)}${boundNote(raw, 'raw uWS')}` });
    }
    for (const peer of ['ws-ioredis', 'socketio', 'soketi'] as const) {
      const other = find(results, 'fanout', peer);
      if (!other?.deliveriesPerSec) {
        verdicts.push({ scenario: 'fanout', target: `deliveries/s >= 5 x ${peer}`, met: undefined, detail: `${peer} did not run` });
        continue;
      }
      const ratio = s / other.deliveriesPerSec;
      verdicts.push({ scenario: 'fanout', target: `deliveries/s >= 5 x ${peer}`, met: ratio >= 5, detail: `${s}/s vs ${other.deliveriesPerSec}/s = ${ratio.toFixed(2)} x (server CPU ${fanout.cpu?.usPerDelivery} vs ${other.cpu?.usPerDelivery} us/delivery)` });
    }
  }
  const ingest = find(results, 'ingest', 'sigcast');
  if (ingest?.ackedPerSec !== undefined) {
    verdicts.push({ scenario: 'ingest', target: '>= 200,000 signals/s acknowledged into Redis', met: ingest.ackedPerSec >= 200_000, detail: `${ingest.ackedPerSec}/s` });
  }
  const latency = find(results, 'latency', 'sigcast');
  if (latency?.latency) {
    const p99 = latency.latency.p99;
    verdicts.push({ scenario: 'latency', target: 'p99 <= 5 ms', met: p99 <= 5, detail: `p99 ${p99} ms` });
    const peers = results.filter((r) => r.scenario === 'latency' && r.status === 'ok' && r.system !== 'sigcast' && r.system !== 'raw-uws' && r.latency);
    const worse = peers.filter((r) => (r.latency?.p99 ?? Infinity) <= p99);
    verdicts.push({
      scenario: 'latency',
      target: 'p99 lower than every peer',
      met: peers.length ? worse.length === 0 : undefined,
      detail: peers.map((r) => `${r.system} ${r.latency?.p99} ms`).join(', ') || 'no peer ran',
    });
  }
  const replay = find(results, 'replay-storm', 'sigcast');
  if (replay?.replay) {
    const max = replay.replay.done?.max ?? Infinity;
    const all = replay.replay.complete === replay.replay.expected;
    verdicts.push({ scenario: 'replay-storm', target: 'every subscriber has its 1,000 entries within 2 s', met: all && max <= 2000, detail: `${replay.replay.complete}/${replay.replay.expected} complete, slowest ${max} ms` });
    const perSub = replay.redisCommandsPerSubscriber ?? 0;
    verdicts.push({ scenario: 'replay-storm', target: 'zero Redis commands per subscriber once warm', met: perSub < 0.01, detail: `${replay.redisCommandsTotal ?? 0} commands for ${replay.replay.expected} subscribers ${JSON.stringify(replay.redisCommands ?? {})}` });
  }
  const connections = find(results, 'connections', 'sigcast');
  if (connections?.rss?.perConnectionBytes !== undefined) {
    const perConn = connections.rss.perConnectionBytes;
    verdicts.push({ scenario: 'connections', target: '<= 8 KB RSS per idle connection', met: perConn <= 8192, detail: `${(perConn / 1024).toFixed(1)} KiB per connection (${connections.connections?.opened} connections)` });
  }
  const cross = find(results, 'cross-node', 'sigcast');
  if (cross?.completeness) {
    const c = cross.completeness;
    verdicts.push({
      scenario: 'cross-node',
      target: 'no silent loss when node B falls behind',
      met: c.lost === 0 && c.undelivered === 0 && c.duplicated === 0,
      detail: `silent loss ${c.lost}, undelivered at the end ${c.undelivered}, duplicates ${c.duplicated}, announced by reset ${c.announced}, closes ${JSON.stringify(cross.closes ?? {})}, resumes ${cross.resumes ?? 0}, node B metrics ${JSON.stringify(cross.metricsDelta ?? {})}`,
    });
  }
  for (const scenario of ['cross-node', 'fanout', 'latency']) {
    const job = find(results, scenario, 'sigcast');
    if (!job?.metricsDelta) continue;
    const heartbeatDrops = job.metricsDelta['sigcast_heartbeat_timeouts_total'] ?? 0;
    const lagCloses = job.metricsDelta['sigcast_lag_disconnects_total'] ?? 0;
    verdicts.push({
      scenario,
      target: 'no reader dropped as silent; readers further behind than MAX_LAG_MS closed with 4008 lagging',
      met: heartbeatDrops === 0,
      detail: `heartbeat drops ${heartbeatDrops}, lag closes ${lagCloses}, closes seen by the subscribers ${JSON.stringify(job.closes ?? {})}`,
    });
  }
  verdicts.push(...judgeRatioTargets(results));
  return verdicts;
}

const PEERS = ['ws-ioredis', 'socketio', 'soketi'] as const;
/** RESULTS.md's raw-uWS fanout figure of 2026-11-25: issue 13 judges ingest's CPU only on a machine that reproduces it within 20 %. */
export const REFERENCE_RAW_FANOUT = 1_010_000;

const ratioText = (a: number, b: number): string => `${(a / b).toFixed(2)} x`;
const cpuText = (a: JobResult, b: JobResult): string => `server CPU ${a.cpu?.usPerDelivery ?? '?'} vs ${b.cpu?.usPerDelivery ?? '?'} us/delivery`;

/** Issue 13's targets: ratios against raw uWS and the peers in the same run. */
export function judgeRatioTargets(results: readonly JobResult[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const many = find(results, 'many-channels', 'sigcast');
  const manyRaw = find(results, 'many-channels', 'raw-uws');
  if (many?.deliveriesPerSec) {
    if (manyRaw?.deliveriesPerSec) {
      verdicts.push({
        scenario: 'many-channels',
        target: 'deliveries/s >= 0.6 x raw uWS',
        met: many.deliveriesPerSec >= 0.6 * manyRaw.deliveriesPerSec,
        detail: `${many.deliveriesPerSec}/s vs ${manyRaw.deliveriesPerSec}/s = ${ratioText(many.deliveriesPerSec, manyRaw.deliveriesPerSec)} (${cpuText(many, manyRaw)})${boundNote(many)}${boundNote(manyRaw, 'raw uWS')}`,
      });
    }
    for (const peer of PEERS) {
      const other = find(results, 'many-channels', peer);
      if (!other?.deliveriesPerSec) continue;
      verdicts.push({
        scenario: 'many-channels',
        target: `deliveries/s >= 2 x ${peer}`,
        met: many.deliveriesPerSec >= 2 * other.deliveriesPerSec,
        detail: `${many.deliveriesPerSec}/s vs ${other.deliveriesPerSec}/s = ${ratioText(many.deliveriesPerSec, other.deliveriesPerSec)} (${cpuText(many, other)})`,
      });
    }
  }
  const fanout = find(results, 'fanout', 'sigcast');
  const fanoutRaw = find(results, 'fanout', 'raw-uws');
  if (fanout?.cpu?.usPerDelivery !== undefined && fanoutRaw?.cpu?.usPerDelivery) {
    verdicts.push({
      scenario: 'fanout',
      target: 'server CPU per delivery <= 1.3 x raw uWS',
      met: fanout.cpu.usPerDelivery <= 1.3 * fanoutRaw.cpu.usPerDelivery,
      detail: `${cpuText(fanout, fanoutRaw)} = ${ratioText(fanout.cpu.usPerDelivery, fanoutRaw.cpu.usPerDelivery)}`,
    });
  }
  const ingest = find(results, 'ingest', 'sigcast');
  if (ingest?.ackedPerSec) {
    const peers = PEERS.map((peer) => find(results, 'ingest', peer)).filter((job): job is JobResult => job?.ackedPerSec !== undefined);
    const best = peers.reduce<JobResult | undefined>((top, job) => ((job.ackedPerSec ?? 0) > (top?.ackedPerSec ?? 0) ? job : top), undefined);
    if (best?.ackedPerSec) {
      verdicts.push({
        scenario: 'ingest',
        target: '>= 3 x the best peer',
        met: ingest.ackedPerSec >= 3 * best.ackedPerSec,
        detail: `${ingest.ackedPerSec}/s vs ${best.system} ${best.ackedPerSec}/s = ${ratioText(ingest.ackedPerSec, best.ackedPerSec)} (${cpuText(ingest, best)})${boundNote(ingest)}`,
      });
    }
    const usPerSignal = ingest.cpu?.usPerSignal ?? ingest.cpu?.usPerDelivery;
    const reference = fanoutRaw?.deliveriesPerSec;
    const comparable = reference !== undefined && Math.abs(reference - REFERENCE_RAW_FANOUT) <= 0.2 * REFERENCE_RAW_FANOUT;
    verdicts.push({
      scenario: 'ingest',
      target: '<= 4 us server CPU per acknowledged signal (where raw uWS fanout is within 20 % of 1,010k)',
      met: usPerSignal === undefined || !comparable ? undefined : usPerSignal <= 4,
      detail: `${usPerSignal ?? '?'} us per signal; raw uWS fanout in this run ${reference === undefined ? 'did not run' : `${reference}/s${comparable ? '' : ', not within 20 % of 1,010k: not judged'}`}`,
    });
  }
  const latency = find(results, 'latency', 'sigcast');
  const latencyRaw = find(results, 'latency', 'raw-uws');
  if (latency?.latency && latencyRaw?.latency) {
    verdicts.push({
      scenario: 'latency',
      target: 'p99 <= 1.5 x raw uWS',
      met: latency.latency.p99 <= 1.5 * latencyRaw.latency.p99,
      detail: `p99 ${latency.latency.p99} vs ${latencyRaw.latency.p99} ms = ${ratioText(latency.latency.p99, latencyRaw.latency.p99)} (p50 ${latency.latency.p50} vs ${latencyRaw.latency.p50} ms)`,
    });
  }
  return verdicts;
}
