// A sigcast node as its own process (`sigcast serve`), so that what it holds is its own RSS and
// not the test runner's; with helpers that read what resource tests check: its RSS, its metrics.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { killAtExit } from './leftovers.js';

export interface NodeProcess {
  readonly pid: number;
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** Resident set size of the node process, in bytes (from /proc). */
  rss(): number;
  /** One metric's value from /metrics (summed over its label sets); 0 when absent. */
  metric(name: string): Promise<number>;
  /** Log lines (JSON) the node wrote so far. */
  logs(): string[];
  /** SIGTERM, then SIGKILL if it does not exit within 10 s. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

export async function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killAtExit(child);
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    // Only the last few thousand lines: a test that closes 400 slow consumers logs 400 warnings.
    lines.push(...parts);
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sigcast did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    const look = (): void => {
      for (const line of lines) {
        const match = /"port":(\d+).*"msg":"listening"/.exec(line);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', look);
          resolve(Number(match[1]));
          return;
        }
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sigcast exited (${code}) before listening: ${stderr}`));
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid!,
    port,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    rss: () => rssOf(child.pid!),
    metric: async (name) => metricValue(await (await fetch(`${baseUrl}/metrics`)).text(), name),
    logs: () => [...lines],
    stop: () => stopChild(child),
  };
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

export const MiB = 1024 * 1024;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
