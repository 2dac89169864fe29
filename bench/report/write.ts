import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResult } from '../scenarios/types.js';
import { SCENARIOS } from '../scenarios/index.js';
import { renderMarkdown } from './markdown.js';
import type { RunFile } from './run-file.js';
import { barChart, percentileChart } from './svg.js';

/** The headline metric of each scenario's chart. */
const HEADLINE: Record<string, { unit: string; pick(r: JobResult): number | undefined }> = {
  fanout: { unit: 'deliveries/s', pick: (r) => r.deliveriesPerSec },
  ingest: { unit: 'signals acknowledged/s', pick: (r) => r.ackedPerSec },
  latency: { unit: 'p99 latency, ms (lower is better)', pick: (r) => r.latency?.p99 },
  'replay-storm': { unit: 'slowest full replay, ms (lower is better)', pick: (r) => r.replay?.done?.max },
  connections: { unit: 'server RSS per idle connection, KiB', pick: (r) => (r.rss?.perConnectionBytes === undefined ? undefined : r.rss.perConnectionBytes / 1024) },
  'many-channels': { unit: 'deliveries/s', pick: (r) => r.deliveriesPerSec },
  'cross-node': { unit: 'deliveries/s', pick: (r) => r.deliveriesPerSec },
};

export function renderHtml(run: RunFile): string {
  const sections: string[] = [];
  const scenarios = [...new Set(run.results.map((r) => r.scenario))];
  const charts: string[] = [];
  for (const scenario of scenarios) {
    const headline = HEADLINE[scenario];
    if (!headline) continue;
    const rows = run.results.filter((r) => r.scenario === scenario);
    charts.push(barChart(scenario, headline.unit, rows.map((r) => ({ label: r.system, value: r.status === 'ok' ? headline.pick(r) : undefined, note: r.status === 'ok' ? undefined : r.status }))));
    if (scenario !== 'ingest' && scenario !== 'latency' && rows.some((r) => r.deliveriesPerSec !== undefined) && headline.unit !== 'deliveries/s') {
      charts.push(barChart(`${scenario}`, 'deliveries/s', rows.map((r) => ({ label: r.system, value: r.deliveriesPerSec }))));
    }
  }
  sections.push(`<h2>Headline per scenario</h2><div class="grid">${charts.join('')}</div>`);
  const curves: string[] = [];
  for (const scenario of scenarios) {
    const series = run.results
      .filter((r) => r.scenario === scenario && r.status === 'ok' && r.latency)
      .map((r) => ({ label: r.system, curve: r.latency?.curve ?? [] }));
    if (series.length) curves.push(percentileChart(`${scenario}: end-to-end latency by percentile`, series));
  }
  sections.push(`<h2>Latency percentile curves</h2><div class="grid">${curves.join('')}</div>`);
  const descriptions = SCENARIOS.map((s) => `<li><b>${s.name}</b>: ${s.description}</li>`).join('');
  const table = renderMarkdown(run)
    .split('\n')
    .map((line) => line.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>sigcast bench ${run.date}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1300px}.grid{display:flex;flex-wrap:wrap;gap:16px}pre{font-size:12px;overflow-x:auto;background:#f6f6f6;padding:8px}</style>
</head><body><h1>sigcast benchmark</h1><p>${run.date} · <code>${run.command}</code> · ${run.quick ? 'quick pass' : 'full size'}</p>
<ul>${descriptions}</ul>${sections.join('')}<h2>Table</h2><pre>${table}</pre></body></html>`;
}

/** Writes run-<stamp>.json, latest.md and report.html; returns the paths. */
export function writeReports(dir: string, stamp: string, run: RunFile): string[] {
  const json = join(dir, `run-${stamp}.json`);
  const md = join(dir, 'latest.md');
  const html = join(dir, 'report.html');
  writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(run));
  writeFileSync(html, renderHtml(run));
  return [json, md, html];
}
