import { isSigcast, type SystemName } from '../lib/variants.js';
import type { JobPlan, Params, ScenarioDef } from './types.js';

/**
 * The named scenarios. Full sizes follow issue 4; `quick` (npm run bench with no --scenario)
 * shrinks them so that every scenario and system runs in under three minutes.
 */
const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const noHistory = (system: SystemName): string | undefined =>
  isSigcast(system) || system === 'ws-ioredis' ? undefined : `${system} keeps no history to replay`;
const needsRedis = (system: SystemName): string | undefined =>
  system === 'raw-uws' ? 'raw uWS has no Redis and no second node' : undefined;

function base(scenario: string, system: SystemName, params: Params, subscribers: number): JobPlan {
  return {
    scenario,
    system,
    nodes: 1,
    redis: system === 'sigcast' ? params.broker === 'redis' : system !== 'raw-uws',
    cluster: system === 'sigcast-cluster',
    subscribers: params.subscribers ?? subscribers,
    subs: { channels: ['FANOUT'], perConnection: 1, connectOnGo: false, connectConcurrency: 64, stallers: 0, stallMs: 0, recordLatency: true },
    idle: false,
    drainMs: params.quick ? 3000 : 10_000,
    maxPhaseMs: 0,
    sendBufferBytes: 4 * 1024 * 1024,
    encoding: isSigcast(system) ? params.encoding : 'json',
    batch: isSigcast(system) && params.batch,
    transport: params.transport,
    publishVia: 'ws',
    resume: false,
    summary: '',
  };
}

const durationMs = (params: Params): number => (params.durationS ?? (params.quick ? 2 : 10)) * 1000;

export const SCENARIOS: ScenarioDef[] = [
  {
    name: 'fanout',
    description: '1 channel, 1,000 subscribers, one publisher as fast as acknowledged (batches of 10, 16 in flight, kept within 200 entries of the slowest subscriber)',
    notApplicable: () => undefined,
    plan(system, params) {
      const plan = base('fanout', system, params, params.quick ? 200 : 1000);
      plan.pubs = { publishers: [{ channels: ['FANOUT'] }], batch: 10, window: 16, durationMs: durationMs(params), maxLag: 200, ...(params.rate ? { rate: params.rate } : {}) };
      plan.summary = `${plan.subscribers} subscribers on 1 channel, 1 WS publisher, batches of 10, 16 in flight, lag bound 200`;
      return plan;
    },
  },
  {
    name: 'ingest',
    description: 'HTTP batches of 100 from 4 publishers (2 in flight each), 1 subscriber on all 4 channels checking completeness',
    notApplicable: (system) => (system === 'raw-uws' ? 'raw uWS stores nothing (no Redis)' : undefined),
    plan(system, params) {
      const plan = base('ingest', system, params, 1);
      const channels = names('ING', 4);
      plan.subs = { ...plan.subs, channels, perConnection: channels.length, recordLatency: true };
      // Socket.IO has no HTTP ingest: its publishers emit the same batches over their socket.
      plan.publishVia = system === 'socketio' ? 'ws' : 'http';
      plan.pubs = { publishers: channels.map((channel) => ({ channels: [channel] })), batch: 100, window: 2, durationMs: durationMs(params) };
      plan.summary = `4 publishers x batches of 100 over ${plan.publishVia.toUpperCase()}, 2 in flight each; 1 subscriber on 4 channels`;
      return plan;
    },
  },
  {
    name: 'latency',
    description: '100 subscribers, a steady 1,000 signals/s (one per publish): the end-to-end latency distribution',
    notApplicable: () => undefined,
    plan(system, params) {
      const plan = base('latency', system, params, 100);
      plan.subs = { ...plan.subs, channels: ['LAT'] };
      const rate = params.rate ?? 1000;
      plan.pubs = { publishers: [{ channels: ['LAT'] }], batch: 1, window: 64, rate, durationMs: durationMs(params) };
      plan.summary = `${plan.subscribers} subscribers, ${rate} signals/s paced, 1 signal per publish`;
      return plan;
    },
  },
  {
    name: 'replay-storm',
    description: '1,000 subscribers connect at once to a warm channel holding 1,000 entries and replay all of it',
    notApplicable: noHistory,
    plan(system, params) {
      const plan = base('replay-storm', system, params, params.quick ? 200 : 1000);
      plan.subs = { ...plan.subs, channels: ['REPLAY'], last: 1000, connectOnGo: true, connectConcurrency: 1000, recordLatency: false };
      plan.warm = { channels: ['REPLAY'], count: 1000 };
      plan.maxPhaseMs = params.quick ? 10_000 : 30_000;
      plan.summary = `${plan.subscribers} subscribers connect at once, each replays the last 1,000 entries`;
      return plan;
    },
  },
  {
    name: 'connections',
    description: '10,000 idle subscribers (100 channels): server RSS per connection',
    notApplicable: () => undefined,
    plan(system, params) {
      const plan = base('connections', system, params, params.quick ? 2000 : 10_000);
      plan.subs = { ...plan.subs, channels: names('IDLE', 100), connectConcurrency: 100 };
      plan.idle = true;
      plan.summary = `${plan.subscribers} idle connections, 1 subscription each over 100 channels`;
      return plan;
    },
  },
  {
    name: 'many-channels',
    description: '500 channels x 10 subscribers (1,000 connections x 5 channels), one publisher round robin over the channels',
    notApplicable: () => undefined,
    plan(system, params) {
      const channelCount = params.quick ? 100 : 500;
      const plan = base('many-channels', system, params, (channelCount * 10) / 5);
      const channels = names('MC', channelCount);
      plan.subs = { ...plan.subs, channels, perConnection: 5 };
      plan.pubs = { publishers: [{ channels }], batch: 1, window: 16, durationMs: durationMs(params), maxLag: 20 };
      plan.summary = `${channelCount} channels x 10 subscribers over ${plan.subscribers} connections x 5 channels; 1 publisher round robin, 16 in flight`;
      return plan;
    },
  },
  {
    name: 'cross-node',
    description: 'publish to node A, subscribers on node B, one Redis; publisher unbounded, 2% of subscribers stop reading for 3/4 of the run (64 KiB send buffers)',
    notApplicable: needsRedis,
    plan(system, params) {
      const plan = base('cross-node', system, params, params.quick ? 100 : 500);
      const duration = params.durationS !== undefined ? params.durationS * 1000 : params.quick ? 4000 : 10_000;
      plan.nodes = 2;
      plan.redis = true;
      const stallers = Math.max(1, Math.round(plan.subscribers / 50));
      plan.subs = { ...plan.subs, channels: ['XNODE'], stallers, stallMs: Math.round(duration * 0.75) };
      plan.sendBufferBytes = 64 * 1024;
      plan.resume = true;
      plan.pubs = { publishers: [{ channels: ['XNODE'] }], batch: 10, window: 8, durationMs: duration };
      plan.summary = `${plan.subscribers} subscribers on node B (${stallers} stop reading for ${plan.subs.stallMs / 1000} s), publisher on node A: batches of 10, 8 in flight, no lag bound`;
      return plan;
    },
  },
  {
    name: 'cross-shard',
    description: 'publishers on node A over 60 channels (every shard of a cluster), 600 subscriptions on node B (120 connections x 5 channels): the traffic a Redis Cluster spreads over its shards',
    notApplicable: needsRedis,
    plan(system, params) {
      const channelCount = 60;
      const plan = base('cross-shard', system, params, params.quick ? 60 : 120);
      plan.nodes = 2;
      plan.redis = true;
      const channels = names('XS', channelCount);
      plan.subs = { ...plan.subs, channels, perConnection: 5 };
      // Three publishers of 20 channels each, round robin, bounded by the slowest subscriber.
      const publishers = [0, 1, 2].map((p) => ({ channels: channels.filter((_, i) => i % 3 === p) }));
      plan.pubs = { publishers, batch: 5, window: 8, durationMs: durationMs(params), maxLag: 100, ...(params.rate ? { rate: params.rate } : {}) };
      plan.summary = `${plan.subscribers} subscribers on node B x 5 of ${channelCount} channels; 3 publishers on node A, batches of 5, 8 in flight, lag bound 100`;
      return plan;
    },
  },
];

export function findScenario(name: string): ScenarioDef | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
