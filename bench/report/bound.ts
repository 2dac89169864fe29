import type { Busy } from '../scenarios/types.js';

/**
 * What bounded a job, from how busy each part was while the load ran (pure). Every process of the
 * bench is single-threaded, so one at ~100% of a core was the limit; with none saturated, a machine
 * whose cores were all busy was (with this job, or with other work on a shared machine);
 * otherwise the load itself (a paced rate, flow control, a fixed amount of work) was, and nothing
 * is said.
 */
export const SATURATED = 0.9;

const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

export function boundBy(busy: Busy | undefined): string | undefined {
  if (!busy) return undefined;
  const saturated: string[] = [];
  if (busy.subscribers >= SATURATED) saturated.push(`load generator (a subscriber worker at ${percent(busy.subscribers)} of a core)`);
  if (busy.publishers >= SATURATED) saturated.push(`load generator (a publisher worker at ${percent(busy.publishers)} of a core)`);
  if (busy.server >= SATURATED) saturated.push(`server (${percent(busy.server)} of a core)`);
  if (busy.redis >= SATURATED) saturated.push(`redis (${percent(busy.redis)} of a core)`);
  if (saturated.length > 0) return saturated.join(' + ');
  const parts = `server ${percent(busy.server)}, subscriber workers up to ${percent(busy.subscribers)}, publisher workers up to ${percent(busy.publishers)}, redis ${percent(busy.redis)}`;
  if (busy.machine >= SATURATED) return `machine (all cores ${percent(busy.machine)} busy with this job: ${parts})`;
  // The machine is shared: when other work took the cores, that is what bounded the job.
  if ((busy.system ?? 0) >= SATURATED) {
    return `machine, shared (all cores ${percent(busy.system ?? 0)} busy, ${percent(busy.machine)} with this job: ${parts})`;
  }
  return undefined;
}
