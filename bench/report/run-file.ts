// What one `npm run bench` writes to run-<stamp>.json and every report is rendered from (write.ts
// and markdown.ts both read it; render.ts reads it back from disk).
import type { JobResult, Params } from '../scenarios/types.js';

export interface RunFile {
  command: string;
  date: string;
  quick: boolean;
  params: Params;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  seconds: number;
  git?: { start: string; end: string };
  results: JobResult[];
}
