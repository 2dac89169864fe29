// A sigcast node as its own process (`sigcast serve`, see sigcast-process.ts), so that what it
// holds is its own RSS and not the test runner's; with what resource tests read: its RSS and its
// metrics.
import { readFileSync } from 'node:fs';
import { startSigcastProcess, type SigcastProcess } from './sigcast-process.js';

export interface NodeProcess extends SigcastProcess {
  readonly pid: number;
  /** Resident set size of the node process, in bytes (from /proc). */
  rss(): number;
  /** One metric's value from /metrics (summed over its label sets); 0 when absent. */
  metric(name: string): Promise<number>;
}

export const MiB = 1024 * 1024;

export async function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  const started = await startSigcastProcess(env);
  const pid = started.child.pid!;
  return Object.assign(started, {
    pid,
    rss: () => rssOf(pid),
    metric: async (name: string) => metricValue(await (await fetch(`${started.baseUrl}/metrics`)).text(), name),
  });
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) * 1024;
}

/** The sum of a metric's samples in Prometheus text (0 when it has none). */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
