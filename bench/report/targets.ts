import type { SystemName } from '../lib/variants.js';
import type { JobResult } from '../scenarios/types.js';
import { boundBy } from './bound.js';

/** Issue 4's targets, judged from one run's results. */
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
  return verdicts;
}
