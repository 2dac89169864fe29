import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): the top frames by self time, and by total time
 * for frames in the repo's own code. `tsx bench/report/profile-summary.ts FILE [TOP]`.
 */

/** The pid in a profile's file name as node writes it: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. */
export function profilePid(fileName: string): number | undefined {
  const match = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FrameTime {
  frame: string;
  ms: number;
  percent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? relative(process.cwd(), url.replace(/^file:\/\//, '')) : '';
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

export function summarizeProfile(profile: CpuProfile, top = 15): { self: FrameTime[]; total: FrameTime[]; busyMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const name = label(node);
    if (name.startsWith('(idle)')) continue;
    busy += us;
    self.set(name, (self.get(name) ?? 0) + us);
    // Total time: every distinct ancestor frame gets this sample's time once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame) break;
      const frameName = label(frame);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      total.set(frameName, (total.get(frameName) ?? 0) + us);
    }
  }
  const rank = (map: Map<string, number>, filter: (name: string) => boolean): FrameTime[] =>
    [...map]
      .filter(([name]) => filter(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, us]) => ({ frame, ms: Math.round(us / 1000), percent: Math.round((us / Math.max(1, busy)) * 1000) / 10 }));
  return {
    self: rank(self, () => true),
    // The repo's own code: src/ through tsx, dist/src/ compiled.
    total: rank(total, (name) => / (dist\/)?src\//.test(name)),
    busyMs: Math.round(busy / 1000),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/report/profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 15));
  console.log(`busy ${summary.busyMs} ms\n\nself time:`);
  for (const f of summary.self) console.log(`  ${String(f.percent).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.frame}`);
  console.log('\ntotal time (src/ frames):');
  for (const f of summary.total) console.log(`  ${String(f.percent).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.frame}`);
}
