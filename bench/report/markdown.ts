import type { JobResult } from '../scenarios/types.js';
import type { RunFile } from './run-file.js';
import { boundBy } from './bound.js';
import { judgeTargets } from './targets.js';

/** The markdown table of one run (bench/results/latest.md, pasted into bench/RESULTS.md). */
const mb = (bytes: number | undefined): string => (bytes === undefined ? '' : (bytes / 2 ** 20).toFixed(0));
const num = (value: number | undefined): string => (value === undefined ? '' : value.toLocaleString('en-US'));

function row(r: JobResult): string {
  if (r.status !== 'ok') return `| ${r.scenario} | ${r.system} | ${r.status}: ${r.reason ?? ''} |||||||||||||||`;
  const c = r.completeness;
  const closes = r.closes && Object.keys(r.closes).length ? Object.entries(r.closes).map(([code, n]) => `${n}x${code}`).join(' ') : '';
  const extra = [
    r.rss?.perConnectionBytes !== undefined ? `${(r.rss.perConnectionBytes / 1024).toFixed(1)} KiB/conn` : '',
    r.replay ? `replay ${r.replay.complete}/${r.replay.expected}, slowest ${r.replay.done?.max ?? '-'} ms` : '',
    r.connections?.failed ? `${r.connections.failed} connects failed` : '',
    r.loadAverage !== undefined ? `load ${r.loadAverage}` : '',
    c?.announced ? `${c.announced} skipped and announced (reset)` : '',
    c?.reordered ? `${c.reordered} out of order` : '',
    r.resumes ? `${r.resumes} resumes` : '',
  ].filter(Boolean).join('; ');
  return [
    '',
    r.scenario,
    r.system,
    num(r.ackedPerSec),
    num(r.deliveriesPerSec),
    r.latency ? `${r.latency.p50} / ${r.latency.p90} / ${r.latency.p99} / ${r.latency.p999} / ${r.latency.max}` : '',
    r.cpu?.usPerDelivery ?? '',
    r.cpu?.loadUsPerDelivery ?? '',
    r.cpu ? `${r.cpu.serverMs} / ${r.cpu.redisMs} / ${r.cpu.loadMs}` : '',
    boundBy(r.cpu?.busy) ?? '',
    `${mb(r.rss?.peakBytes)}`,
    c ? `${c.lost} / ${c.undelivered} / ${c.duplicated}` : '',
    closes,
    r.redisCommandsTotal !== undefined ? `${num(r.redisCommandsTotal)}${r.redisCommandsPerSubscriber !== undefined ? ` (${r.redisCommandsPerSubscriber}/sub)` : ''}` : '',
    extra,
    '',
  ].join(' | ').trim();
}

export function renderMarkdown(run: RunFile): string {
  const lines: string[] = [];
  lines.push(`Run: ${run.date}, \`${run.command}\` (${run.quick ? 'quick pass' : 'full size'}, ${run.seconds} s)`);
  lines.push(`Machine: ${run.machine.cpus} x ${run.machine.cpuModel}, ${run.machine.memoryGiB} GiB, Node ${run.machine.node}, ${run.machine.platform}`);
  if (run.git) lines.push(`Commit: ${run.git.start}${run.git.end !== run.git.start ? ` at start, ${run.git.end} at the end` : ''}`);
  lines.push(`sigcast: transport ${run.params.transport}, encoding ${run.params.encoding}, broker ${run.params.broker}, batch ${run.params.batch === false ? 'off' : 'on'}`);
  lines.push('');
  lines.push(
    '| scenario | system | acked/s | deliveries/s | latency ms p50 / p90 / p99 / p99.9 / max | server CPU us/delivery | load CPU us/delivery | CPU ms server / redis / load | bound by | server RSS peak MB | lost / undelivered / dup | closes | Redis cmds | notes |',
  );
  lines.push('|---|---|--:|--:|---|--:|--:|---|---|--:|---|---|---|---|');
  for (const r of run.results) lines.push(row(r));
  lines.push('');
  lines.push(
    '*bound by*: the process at >= 90% of a core while the load ran (every process is single-threaded), or the machine when all its cores were that busy; empty when the load itself (a paced rate, flow control) set the pace. Where it says *load generator*, the figure measures the bench, not the system.\n',
  );
  if (run.quick) lines.push('Quick pass: sizes and durations are reduced, so the targets below are only indicative (`npm run bench -- --full` judges them).\n');
  lines.push('| target | scenario | met | measured |');
  lines.push('|---|---|---|---|');
  for (const v of judgeTargets(run.results)) lines.push(`| ${v.target} | ${v.scenario} | ${v.met === undefined ? 'not judged' : v.met ? 'yes' : '**no**'} | ${v.detail} |`);
  lines.push('');
  lines.push(
    'Where a target is missed, the detail says what bounded each side; `bench/RESULTS.md` gives the reason with the profile behind it. `--profile` adds each sigcast job\'s CPU profile below (the profiler slows the server: judge the targets on a run without it).\n',
  );
  const profiled = run.results.filter((r) => r.profiles?.length);
  if (profiled.length > 0) {
    lines.push('## CPU profiles of the sigcast servers\n');
    for (const r of profiled) {
      for (const profile of r.profiles ?? []) {
        lines.push(`**${r.scenario} / ${r.system}** (\`${profile.file}\`, ${profile.busyMs} ms busy, the whole process: start-up included), self time:\n`);
        lines.push('| frame | ms | % |');
        lines.push('|---|--:|--:|');
        for (const frame of profile.self) lines.push(`| \`${frame.frame.replace(/\|/g, '\\|')}\` | ${frame.ms} | ${frame.percent} |`);
        lines.push('');
      }
    }
  }
  return lines.join('\n');
}
