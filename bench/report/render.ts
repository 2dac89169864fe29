import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunFile } from './run-file.js';
import { writeReports } from './write.js';

/**
 * Re-renders latest.md and report.html from a saved run (after a change to the report code):
 * `npx tsx bench/report/render.ts bench/results/run-<date>.json`.
 */
const file = process.argv[2];
if (!file) {
  console.error('usage: tsx bench/report/render.ts bench/results/run-<date>.json');
  process.exit(2);
}
const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
const stamp = file.replace(/^.*run-/, '').replace(/\.json$/, '');
// writeReports also rewrites the run's JSON, unchanged.
console.log(writeReports(dirname(file) || join('.', 'bench/results'), stamp, run).join('\n'));
