import { cpuMs, machineCpuMs } from '../lib/proc-stats.js';
import type { Busy } from './types.js';

/**
 * How busy each part of a job was while it ran: CPU time over wall time, per process, from
 * /proc. A single-threaded process at ~100% of a core is what bounded the job; the busiest process
 * of each group is what counts (one saturated load worker holds back the subscribers it hosts).
 */
export interface CpuGroups {
  server: readonly number[];
  subscribers: readonly number[];
  publishers: readonly number[];
  redis: readonly number[];
}

export interface CpuSample {
  at: number;
  ms: Map<number, number>;
  machine: { busy: number; total: number } | undefined;
}

export function sampleCpu(groups: CpuGroups): CpuSample {
  const ms = new Map<number, number>();
  for (const pid of [...groups.server, ...groups.subscribers, ...groups.publishers, ...groups.redis]) ms.set(pid, cpuMs(pid) ?? 0);
  return { at: Date.now(), ms, machine: machineCpuMs() };
}

/** Fractions of one core (the busiest process of each group), and of all `cores` for the machine. */
export function busyBetween(start: CpuSample, end: CpuSample, groups: CpuGroups, cores: number): Busy {
  const wallMs = Math.max(1, end.at - start.at);
  const used = (pid: number): number => Math.max(0, (end.ms.get(pid) ?? 0) - (start.ms.get(pid) ?? 0));
  const busiest = (pids: readonly number[]): number => round(Math.max(0, ...pids.map((pid) => used(pid) / wallMs)));
  const total = [...end.ms.keys()].reduce((sum, pid) => sum + used(pid), 0);
  return {
    wallMs,
    server: busiest(groups.server),
    subscribers: busiest(groups.subscribers),
    publishers: busiest(groups.publishers),
    redis: busiest(groups.redis),
    machine: round(total / wallMs / Math.max(1, cores)),
    ...(start.machine && end.machine && end.machine.total > start.machine.total
      ? { system: round((end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)) }
      : {}),
  };
}

const round = (fraction: number): number => Math.round(fraction * 100) / 100;
