// Issue 13's targets are ratios within one run: judged from the run's own results, and not
// judged (rather than guessed) when what they compare with did not run or the machine differs.
import { describe, expect, it } from 'vitest';
import { judgeRatioTargets, REFERENCE_RAW_FANOUT } from '../../bench/report/targets.js';
import type { JobResult } from '../../bench/scenarios/types.js';
import type { SystemName } from '../../bench/lib/variants.js';

function job(scenario: string, system: SystemName, fields: Partial<JobResult>): JobResult {
  return { scenario, system, status: 'ok', ...fields };
}
const cpu = (usPerDelivery: number) => ({ serverMs: 1, redisMs: 0, loadMs: 1, usPerDelivery });
const verdict = (verdicts: ReturnType<typeof judgeRatioTargets>, scenario: string, target: string) =>
  verdicts.find((v) => v.scenario === scenario && v.target.startsWith(target));

describe('judgeRatioTargets', () => {
  const run: JobResult[] = [
    job('many-channels', 'sigcast', { deliveriesPerSec: 60_000, cpu: cpu(14) }),
    job('many-channels', 'raw-uws', { deliveriesPerSec: 200_000, cpu: cpu(2) }),
    job('many-channels', 'ws-ioredis', { deliveriesPerSec: 25_000, cpu: cpu(15) }),
    job('many-channels', 'socketio', { deliveriesPerSec: 40_000, cpu: cpu(16) }),
    job('fanout', 'sigcast', { deliveriesPerSec: 1_100_000, cpu: cpu(0.39) }),
    job('fanout', 'raw-uws', { deliveriesPerSec: REFERENCE_RAW_FANOUT * 1.1, cpu: cpu(0.3) }),
    job('ingest', 'sigcast', { ackedPerSec: 130_000, cpu: cpu(3.5) }),
    job('ingest', 'ws-ioredis', { ackedPerSec: 40_000, cpu: cpu(28) }),
    job('ingest', 'soketi', { ackedPerSec: 45_000, cpu: cpu(26) }),
    job('latency', 'sigcast', { latency: { p50: 1, p90: 2, p99: 6, p999: 9, max: 12 } as JobResult['latency'] }),
    job('latency', 'raw-uws', { latency: { p50: 0.5, p90: 1, p99: 4, p999: 6, max: 8 } as JobResult['latency'] }),
  ];
  const verdicts = judgeRatioTargets(run);

  it('judges each ratio against the same run', () => {
    expect(verdict(verdicts, 'many-channels', 'deliveries/s >= 0.6 x raw uWS')?.met).toBe(false);
    expect(verdict(verdicts, 'many-channels', 'deliveries/s >= 2 x ws-ioredis')?.met).toBe(true);
    expect(verdict(verdicts, 'many-channels', 'deliveries/s >= 2 x socketio')?.met).toBe(false);
    expect(verdict(verdicts, 'fanout', 'server CPU per delivery <= 1.3 x raw uWS')?.met).toBe(true);
    // The best peer is soketi here: 130k is under 3 x 45k.
    const best = verdict(verdicts, 'ingest', '>= 3 x the best peer');
    expect(best?.met).toBe(false);
    expect(best?.detail).toContain('soketi');
    expect(verdict(verdicts, 'ingest', '<= 4 us')?.met).toBe(true);
    expect(verdict(verdicts, 'latency', 'p99 <= 1.5 x raw uWS')?.met).toBe(true);
  });

  it('does not judge ingest CPU on a machine whose raw uWS fanout is not within 20 % of the reference', () => {
    const slow = run.map((r) => (r.scenario === 'fanout' && r.system === 'raw-uws' ? { ...r, deliveriesPerSec: REFERENCE_RAW_FANOUT * 0.7 } : r));
    const cpuVerdict = verdict(judgeRatioTargets(slow), 'ingest', '<= 4 us');
    expect(cpuVerdict?.met).toBeUndefined();
    expect(cpuVerdict?.detail).toContain('not judged');
  });

  it('leaves out what it cannot compare: no raw uWS, no peers', () => {
    const alone = judgeRatioTargets(run.filter((r) => r.system === 'sigcast'));
    expect(alone.map((v) => v.target)).toEqual(['<= 4 us server CPU per acknowledged signal (where raw uWS fanout is within 20 % of 1,010k)']);
    expect(alone[0]?.met).toBeUndefined();
  });
});
