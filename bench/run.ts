import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseBenchArgs, USAGE } from './lib/args.js';
import { isSigcast } from './lib/variants.js';
import { WorkerPool } from './load/pool.js';
import { boundBy } from './report/bound.js';
import { type CpuProfile, profilePid, summarizeProfile } from './report/profile-summary.js';
import { writeReports } from './report/write.js';
import { runJob } from './scenarios/engine.js';
import { findScenario, SCENARIOS } from './scenarios/index.js';
import type { JobResult, Params, ScenarioDef } from './scenarios/types.js';
import { REPO_ROOT } from './systems/node-proc.js';
import { buildSigcast, gitHead, type SigcastBuild } from './systems/sigcast-build.js';
import { SYSTEM_DEFS } from './systems/index.js';

/**
 * `npm run bench`: runs the named scenarios against sigcast and its peers side by side and writes
 * bench/results/run-<date>.json, latest.md and report.html. Everything it starts, it stops.
 */
async function main(): Promise<void> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const scenarios: ScenarioDef[] = [];
  for (const name of args.scenarios ?? SCENARIOS.map((s) => s.name)) {
    const scenario = findScenario(name);
    if (!scenario) {
      console.error(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
      process.exit(2);
    }
    scenarios.push(scenario);
  }
  const quick = !args.full && args.scenarios === undefined;
  const params: Params = { transport: args.transport, encoding: args.encoding, broker: args.broker, batch: args.batch, quick };
  if (args.durationS !== undefined) params.durationS = args.durationS;
  if (args.subscribers !== undefined) params.subscribers = args.subscribers;
  if (args.rate !== undefined) params.rate = args.rate;

  const outDir = resolve(REPO_ROOT, args.out);
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const log = (line: string): void => console.log(line);
  const unavailable = new Map(args.systems.map((name) => [name, SYSTEM_DEFS[name].unavailable()]));
  for (const [name, reason] of unavailable) if (reason) log(`skipping ${name}: ${reason}`);

  // Say so if the process ever ends before the report is written (it must not, silently).
  let finished = false;
  process.on('exit', (code) => {
    if (!finished) console.error(`bench exited (code ${code}) before writing its report`);
  });
  const keepAlive = setInterval(() => {}, 60_000);
  let build: SigcastBuild | undefined;
  if (args.systems.some((name) => isSigcast(name) && !unavailable.get(name))) {
    try {
      build = buildSigcast(args.sigcastRoot ?? REPO_ROOT, log);
    } catch (error) {
      console.error(`could not compile sigcast: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    }
  }
  const sigcastRoot = build?.root ?? REPO_ROOT;
  const headAtStart = gitHead(sigcastRoot);
  const pool = new WorkerPool(4);
  const results: JobResult[] = [];
  const started = Date.now();
  try {
    for (const scenario of scenarios) {
      for (const system of args.systems) {
        const notApplicable = scenario.notApplicable(system);
        const reason = unavailable.get(system);
        if (notApplicable || reason) {
          results.push({ scenario: scenario.name, system, status: notApplicable ? 'n/a' : 'skipped', reason: notApplicable ?? reason });
          continue;
        }
        const plan = scenario.plan(system, params);
        log(`> ${scenario.name} / ${system}: ${plan.summary}`);
        const result = await runJob(plan, pool, { log, sigcastRoot, ...(args.profile ? { cpuProfileDir: join(outDir, 'profiles', stamp) } : {}) });
        results.push(result);
        log(`  ${oneLine(result)}`);
      }
    }
  } finally {
    pool.close();
  }
  if (args.profile) attachProfiles(results, join(outDir, 'profiles', stamp));
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
  const files = writeReports(outDir, stamp, {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    quick,
    params,
    machine,
    seconds: Math.round((Date.now() - started) / 1000),
    // sigcast runs compiled from its checkout: say which commit it was at (and whether it moved meanwhile).
    git: { start: headAtStart, end: gitHead(sigcastRoot) },
    results,
  });
  finished = true;
  clearInterval(keepAlive);
  log(`done in ${Math.round((Date.now() - started) / 1000)} s; wrote ${files.join(', ')}`);
  const incomplete = results.some((r) => r.status === 'ok' && isSigcast(r.system) && ((r.completeness?.lost ?? 0) > 0 || (r.completeness?.duplicated ?? 0) > 0));
  process.exitCode = results.some((r) => r.status === 'failed') || incomplete ? 1 : 0;
}

/** Hands each job the summaries of its server processes' CPU profiles (matched by pid). */
function attachProfiles(results: JobResult[], dir: string): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).sort()) {
    const pid = profilePid(file);
    const job = results.find((result) => pid !== undefined && result.serverPids?.includes(pid));
    if (!job) continue;
    const summary = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, 12);
    (job.profiles ??= []).push({ file: relative(REPO_ROOT, join(dir, file)), busyMs: summary.busyMs, self: summary.self });
  }
}

function oneLine(r: JobResult): string {
  if (r.status !== 'ok') return `${r.status}: ${r.reason ?? ''}`;
  const parts = [
    r.ackedPerSec !== undefined ? `acked ${r.ackedPerSec}/s` : '',
    r.deliveriesPerSec !== undefined ? `deliveries ${r.deliveriesPerSec}/s` : '',
    r.latency ? `p50 ${r.latency.p50} p99 ${r.latency.p99} max ${r.latency.max} ms` : '',
    r.cpu?.usPerDelivery !== undefined ? `cpu ${r.cpu.usPerDelivery} us/delivery (load generator ${r.cpu.loadUsPerDelivery ?? '-'})` : '',
    boundBy(r.cpu?.busy) ? `bound by ${boundBy(r.cpu?.busy)}` : '',
    r.rss?.perConnectionBytes !== undefined ? `rss/conn ${r.rss.perConnectionBytes} B` : '',
    r.replay ? `replayed ${r.replay.complete}/${r.replay.expected} max ${r.replay.done?.max ?? '-'} ms` : '',
    `lost ${r.completeness?.lost ?? 0} undelivered ${r.completeness?.undelivered ?? 0} dup ${r.completeness?.duplicated ?? 0}`,
    r.closes && Object.keys(r.closes).length ? `closes ${JSON.stringify(r.closes)}` : '',
    r.redisCommandsTotal !== undefined ? `redis ${r.redisCommandsTotal} cmds` : '',
    r.errors?.length ? `errors: ${r.errors.slice(0, 2).join(' | ')}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
