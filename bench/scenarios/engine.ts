import { cpus, loadavg } from 'node:os';
import { summarize } from '../lib/hist.js';
import { cpuMs, RssSampler, rssBytes } from '../lib/proc-stats.js';
import { startRedisCluster } from '../lib/redis-cluster.js';
import { diffStats, type RedisHandle, startRedis } from '../lib/redis-server.js';
import { isSigcast } from '../lib/variants.js';
import { nowMs, sleep, waitUntil } from '../lib/timing.js';
import type { PublisherReport, SubscriberReport } from '../load/ipc.js';
import type { WorkerHandle, WorkerPool } from '../load/pool.js';
import type { Expected } from '../load/tracker.js';
import { SYSTEM_DEFS } from '../systems/index.js';
import type { BenchNode } from '../systems/types.js';
import { busyBetween, sampleCpu, type CpuSample } from './busy.js';
import { addPublisherReports, addSubscriberReports, clientOptions, mergeLastSeq, metricsDelta, split } from './measure.js';
import { warmUp } from './warm.js';
import type { JobPlan, JobResult } from './types.js';

export interface EngineOptions {
  cpuProfileDir?: string;
  /** The compiled sigcast checkout to run (sigcast-build.ts). */
  sigcastRoot?: string;
  log(line: string): void;
}

const SUB_WORKERS = 2;

/**
 * Runs one (scenario, system) job: own redis-server and server process(es) on free ports, load from
 * the worker processes, measurements from /proc and INFO commandstats; everything is stopped at the
 * end, whatever happened. Every wait is bounded.
 */
export async function runJob(plan: JobPlan, pool: WorkerPool, options: EngineOptions): Promise<JobResult> {
  const def = SYSTEM_DEFS[plan.system];
  const result: JobResult = {
    scenario: plan.scenario,
    system: plan.system,
    status: 'ok',
    summary: plan.summary,
    startedAt: new Date().toISOString(),
    // Other work on the machine perturbs every number: record how busy it was.
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  let redis: RedisHandle | undefined;
  const nodes: BenchNode[] = [];
  const subWorkers = pool.workers.slice(0, SUB_WORKERS);
  const pubWorkers = pool.workers.slice(SUB_WORKERS);
  let active: WorkerHandle[] = [];
  let stopWarm: (() => Promise<void>) | undefined;
  try {
    if (plan.redis) redis = plan.cluster ? await startRedisCluster() : await startRedis();
    for (let i = 0; i < plan.nodes; i++) {
      const cpuProfileDir = isSigcast(plan.system) ? options.cpuProfileDir : undefined;
      const sigcastRoot = isSigcast(plan.system) ? options.sigcastRoot : undefined;
      nodes.push(
        await def.start({
          redis,
          transport: plan.transport,
          sendBufferBytes: plan.sendBufferBytes,
          nodeName: `${plan.scenario}-${i}`,
          ...(cpuProfileDir ? { cpuProfileDir } : {}),
          ...(sigcastRoot ? { sigcastRoot } : {}),
        }),
      );
    }
    result.serverPids = nodes.map((node) => node.proc.pid);
    const pubNode = nodes[0] as BenchNode;
    const subNode = nodes[nodes.length - 1] as BenchNode;
    const expected: Expected = {};
    if (plan.warm) {
      const warm = await warmUp(plan, pubNode, subNode);
      Object.assign(expected, warm.expected);
      stopWarm = warm.stop;
    }

    const pids = nodes.map((node) => node.proc.pid);
    const serverCpu = (): number => pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
    const loadCpu = (): number => pool.workers.reduce((sum, worker) => sum + (cpuMs(worker.pid) ?? 0), 0);
    const redisCpu = (): number => (redis ? redis.pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0) : 0);
    const rssStart = rssBytes(subNode.proc.pid) ?? 0;
    const metricsBefore = def.metrics ? await def.metrics(subNode).catch(() => '') : '';
    const statsBefore = redis ? await redis.commandStats() : {};
    const cpu0 = { server: serverCpu(), load: loadCpu(), redis: redisCpu() };
    const groups = { server: pids, subscribers: subWorkers.map((worker) => worker.pid), publishers: pubWorkers.map((worker) => worker.pid), redis: redis ? [...redis.pids] : [] };
    let atEnd: CpuSample | undefined;

    // Setup: subscribers connect and subscribe (except replay-storm's), publishers connect.
    const shares = split(plan.subscribers, SUB_WORKERS);
    let offset = 0;
    const setups: Array<Promise<unknown>> = [];
    active = [];
    subWorkers.forEach((worker, i) => {
      const connections = shares[i] ?? 0;
      if (connections === 0) return;
      worker.send({ t: 'setup', job: { system: plan.system, client: clientOptions(plan, subNode), subs: { ...plan.subs, connections, offset } } });
      offset += connections;
      active.push(worker);
      setups.push(worker.next('ready', 60_000 + connections * 10));
    });
    const pubActive: WorkerHandle[] = [];
    if (plan.pubs) {
      const publishers = plan.pubs.publishers;
      pubWorkers.forEach((worker, i) => {
        const mine = publishers.filter((_, index) => index % pubWorkers.length === i);
        if (mine.length === 0) return;
        worker.send({ t: 'setup', job: { system: plan.system, client: clientOptions(plan, pubNode), pubs: { ...plan.pubs!, publishers: mine } } });
        pubActive.push(worker);
        setups.push(worker.next('ready', 30_000));
      });
    }
    const ready = (await Promise.all(setups)) as Array<{ connected: number; failed: number; errors: string[] }>;
    const failedConnections = ready.reduce((sum, r) => sum + r.failed, 0);
    if (failedConnections > 0) result.errors = ready.flatMap((r) => r.errors).slice(0, 5);

    const sampler = new RssSampler(subNode.proc.pid, 100);
    let subReports: SubscriberReport[];
    let pubReports: PublisherReport[] = [];
    const goAt = nowMs();
    const atGo = sampleCpu(groups);
    if (plan.idle) {
      // Let the server settle (buffers, lazy structures) before reading its memory.
      await sleep(1000);
      const rssEnd = sampler.sample();
      result.rss = { startBytes: rssStart, peakBytes: sampler.stop(), endBytes: rssEnd };
      result.rss.perConnectionBytes = Math.round((rssEnd - rssStart) / Math.max(1, plan.subscribers - failedConnections));
      subReports = await finish(active, expected, 0);
    } else {
      // The publishers' lag bound follows the slowest subscriber, relayed from the subscriber workers.
      const minLast = new Map<number, number>();
      let delivered = 0;
      const deliveredBy = new Map<number, number>();
      for (const worker of active) {
        worker.onOther((message) => {
          if (message.t !== 'progress') return;
          minLast.set(worker.index, message.minLast);
          deliveredBy.set(worker.index, message.deliveries);
          delivered = [...deliveredBy.values()].reduce((a, b) => a + b, 0);
          if (minLast.size === active.length) {
            const upTo = Math.min(...minLast.values());
            for (const pub of pubActive) pub.send({ t: 'allow', upTo });
          }
        });
      }
      for (const worker of active) worker.send({ t: 'go' });
      const published = pubActive.map((worker) => worker.next('published', (plan.pubs?.durationMs ?? 0) + 60_000));
      for (const worker of pubActive) worker.send({ t: 'go' });
      if (plan.pubs) {
        pubReports = (await Promise.all(published)).map((message) => message.report);
        mergeLastSeq(pubReports, expected);
      } else if (plan.warm) {
        const target = plan.subscribers * plan.warm.count;
        await waitUntil(() => delivered >= target, plan.maxPhaseMs, 20);
      }
      // Busy while the load ran, not while the subscribers drain what is left.
      atEnd = sampleCpu(groups);
      subReports = await finish(active, expected, plan.drainMs);
      const rssEnd = sampler.sample();
      result.rss = { startBytes: rssStart, peakBytes: sampler.stop(), endBytes: rssEnd };
    }

    const cpu1 = { server: serverCpu(), load: loadCpu(), redis: redisCpu() };
    const replayHist = addSubscriberReports(result, subReports, goAt);
    addPublisherReports(result, pubReports);
    const serverMs = cpu1.server - cpu0.server;
    result.cpu = { serverMs: Math.round(serverMs), redisMs: Math.round(cpu1.redis - cpu0.redis), loadMs: Math.round(cpu1.load - cpu0.load) };
    if (result.deliveries) result.cpu.usPerDelivery = Math.round((serverMs * 1000 * 100) / result.deliveries) / 100;
    if (result.deliveries) result.cpu.loadUsPerDelivery = Math.round(((cpu1.load - cpu0.load) * 1000 * 100) / result.deliveries) / 100;
    result.cpu.busy = busyBetween(atGo, atEnd ?? sampleCpu(groups), groups, cpus().length);
    if (result.acked) result.cpu.usPerSignal = Math.round((serverMs * 1000 * 100) / result.acked) / 100;
    if (plan.warm) {
      const done = summarize(replayHist);
      result.replay = { complete: replayHist.totalCount, expected: plan.subscribers, ...(done ? { done } : {}) };
    }
    if (redis) {
      result.redisCommands = diffStats(statsBefore, await redis.commandStats());
      result.redisCommandsTotal = Object.values(result.redisCommands).reduce((a, b) => a + b, 0);
      result.redisCommandsPerSubscriber = Math.round((result.redisCommandsTotal / Math.max(1, plan.subscribers)) * 1000) / 1000;
    }
    if (def.metrics) result.metricsDelta = metricsDelta(metricsBefore, await def.metrics(subNode).catch(() => ''));
  } catch (error) {
    result.status = 'failed';
    result.reason = error instanceof Error ? error.message : String(error);
    options.log(`  ! ${plan.scenario}/${plan.system} failed: ${result.reason}`);
    // What the servers printed last tells most failures apart.
    result.errors = [...(result.errors ?? []), ...nodes.map((node) => `${node.proc.name}: ${node.proc.tail().slice(-600)}`)];
    for (const line of result.errors) options.log(`    ${line}`);
    await finish(active, {}, 0).catch(() => []);
  } finally {
    for (const worker of pool.workers) worker.reset();
    await stopWarm?.().catch(() => {});
    await Promise.all(nodes.map((node) => node.proc.stop(5000)));
    await redis?.stop();
  }
  return result;
}

async function finish(workers: readonly WorkerHandle[], expected: Expected, drainMs: number): Promise<SubscriberReport[]> {
  const reports = workers.map((worker) => worker.next('report', drainMs + 60_000));
  for (const worker of workers) worker.send({ t: 'finish', expected, drainMs });
  return (await Promise.all(reports)).map((message) => message.report);
}

