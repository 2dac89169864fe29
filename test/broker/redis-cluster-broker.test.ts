// RedisBroker on a real 3-master, 3-replica Redis Cluster (started once for the file): the Broker
// contract, then what only a cluster has: slots, sharded pub/sub on the owning shard, per-slot
// SSUBSCRIBE batches, a resharding and a failover under live subscriptions, and WAIT for replicas.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BrokerUnavailableError } from '../../src/broker/broker.js';
import { keySlot } from '../../src/broker/cluster-slot.js';
import { createRedisBroker } from '../../src/broker/redis-broker.js';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { slotOwners } from '../support/cluster-nodes.js';
import { type ClusterNode, moveSlot, type RedisClusterHandle, startRedisCluster } from '../support/redis-cluster.js';
import { openClusterTestBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';
import { describeBrokerContract, recorder, signals } from './broker.case.js';

let cluster: RedisClusterHandle;
let prefixes = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

function clientOf(node: ClusterNode): Redis {
  const client = cluster.client(node);
  onTestFinished(() => void client.disconnect());
  return client;
}

async function commandCalls(node: ClusterNode, command: string): Promise<number> {
  const info = await clientOf(node).info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

/** One channel name per master (by where its hash tag's slot lives), found by trying names. */
async function channelPerMaster(tag: string): Promise<Map<ClusterNode, string>> {
  const owners = slotOwners(await cluster.view());
  const masters = await cluster.masters();
  const found = new Map<ClusterNode, string>();
  for (let i = 0; found.size < masters.length; i++) {
    const name = `${tag}${i}`;
    const master = masters.find((node) => node.address === owners[keySlot(`{${name}}`)]);
    if (master && !found.has(master)) found.set(master, name);
  }
  return found;
}

describeBrokerContract('RedisBroker on a Redis Cluster', async (options) => {
  const broker = createRedisBroker({ clusterNodes: cluster.seeds, keyPrefix: `ccontract${++prefixes}`, retryBaseMs: 20, retryMaxMs: 200, commandTimeoutMs: 2000, ...options });
  await broker.ready();
  return { broker, teardown: () => broker.close() };
});

describe('RedisBroker on a Redis Cluster: slots and sharded pub/sub', () => {
  test('the slot of a key or channel is the one Redis computes (hash tags included)', async () => {
    const client = clientOf(cluster.nodes[0]!);
    const keys = ['sc:{BTCUSDT}:log', 'sc:{strategy.momentum}:live', '{a}', 'plain', '{}x', 'x{}', 'a{b}c{d}', 'ünïcødé{é}', ...Array.from({ length: 200 }, (_, i) => `k${i * 7919}`)];
    for (const key of keys) expect(keySlot(key), key).toBe(await client.cluster('KEYSLOT', key));
  });

  test('the appends of one turn to channels of every shard each go to the shard of their slot, stored and announced there', async () => {
    const { broker } = openClusterTestBroker(cluster.seeds);
    await broker.ready();
    const channels = Array.from({ length: 30 }, (_, i) => `SLOTS-${i}`);
    const recs = channels.map(() => recorder());
    await Promise.all(channels.map((channel, i) => broker.subscribe(channel, recs[i]!.listener)));
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(channels.map((channel) => broker.append(channel, signals(round * 2, 2, channel))));
      for (const result of results) expect(result.results.map((r) => r.seq)).toEqual([round * 2 + 1, round * 2 + 2]);
    }
    await waitFor(() => recs.every((rec) => rec.seqs().flat().length === 6), 10_000, 'every announcement');
    for (const rec of recs) expect(rec.seqs().flat()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("a channel's traffic goes through SPUBLISH/SSUBSCRIBE on the shard owning its slot, and on no other", async () => {
    const { broker, prefix } = openClusterTestBroker(cluster.seeds);
    await broker.ready();
    const perMaster = await channelPerMaster('SHARD');
    const recs = new Map<string, ReturnType<typeof recorder>>();
    for (const channel of perMaster.values()) {
      const rec = recorder();
      recs.set(channel, rec);
      await broker.subscribe(channel, rec.listener);
    }
    const spublishBefore = new Map<ClusterNode, number>();
    for (const master of perMaster.keys()) spublishBefore.set(master, await commandCalls(master, 'spublish'));
    for (const channel of perMaster.values()) await broker.append(channel, signals(1, 3));
    await waitFor(() => [...recs.values()].every((rec) => rec.calls.length === 1), 5000, 'one batch per channel');

    for (const [master, channel] of perMaster) {
      const live = channelKeys(prefix, channel).live;
      const client = clientOf(master);
      // Only its own channel is subscribed there, and nothing on classic pub/sub.
      expect(await client.pubsub('SHARDCHANNELS', `${prefix}:*`)).toEqual([live]);
      expect(await client.pubsub('CHANNELS', `${prefix}:*`)).toEqual([]);
      expect((await commandCalls(master, 'spublish')) - (spublishBefore.get(master) ?? 0)).toBe(1);
      expect(await commandCalls(master, 'publish')).toBe(0);
      expect(recs.get(channel)?.seqs()).toEqual([[1, 2, 3]]);
    }
    // The replicas serve no subscriptions of ours.
    const owners = new Set((await cluster.masters()).map((node) => node.address));
    for (const node of cluster.nodes.filter((n) => !owners.has(n.address))) {
      expect(await clientOf(node).pubsub('SHARDCHANNELS', `${prefix}:*`)).toEqual([]);
    }
  });

  test('channels of one slot are SSUBSCRIBEd again in one command after their shard connection drops', async () => {
    const { broker, prefix } = openClusterTestBroker(cluster.seeds);
    await broker.ready();
    // Three channel names whose hash tags share a slot.
    const bySlot = new Map<number, string[]>();
    let same: string[] = [];
    for (let i = 0; same.length < 3; i++) {
      const name = `SAME${i}`;
      const group = [...(bySlot.get(keySlot(`{${name}}`)) ?? []), name];
      bySlot.set(keySlot(`{${name}}`), group);
      if (group.length === 3) same = group;
    }
    const slot = keySlot(`{${same[0]}}`);
    const owner = await cluster.ownerOf(slot);
    const rec = recorder();
    for (const channel of same) await broker.subscribe(channel, rec.listener);
    const resubscribed = await commandCalls(owner, 'ssubscribe');
    expect(await clientOf(owner).client('KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await clientOf(owner).pubsub('SHARDCHANNELS', `${prefix}:*`)).length === 3, 10_000, 'the channels back on their shard');
    expect((await commandCalls(owner, 'ssubscribe')) - resubscribed).toBe(1);
    await broker.append(same[1]!, signals(1, 2));
    await waitFor(() => rec.calls.length === 1, 5000, 'delivery after the re-subscription');
  });

  test('ioredis behaviour relied on: a MOVED SSUBSCRIBE never resolves, a pushed SUNSUBSCRIBE is an error event', async () => {
    const slot = keySlot('{PROBE}');
    const owner = await cluster.ownerOf(slot);
    const other = (await cluster.masters()).find((node) => node !== owner)!;
    const wrong = cluster.client(other, { commandTimeout: 300 });
    onTestFinished(() => void wrong.disconnect());
    let moved = 0;
    wrong.on('moved', () => (moved += 1));
    await expect(wrong.ssubscribe('{PROBE}:live')).rejects.toThrow(/timed out/);
    expect(moved).toBe(1);

    // The slot leaves the node: Redis pushes SUNSUBSCRIBE, which ioredis cannot match to a command.
    const subscriber = cluster.client(owner);
    onTestFinished(() => void subscriber.disconnect());
    const errors: string[] = [];
    subscriber.on('error', (error: Error) => errors.push(error.message));
    await subscriber.ssubscribe('{PROBE}:live');
    await moveSlot(cluster, slot, other);
    await waitFor(() => errors.length > 0, 5000, 'the pushed SUNSUBSCRIBE');
    expect(errors[0]).toMatch(/^Command queue state error.*Last reply: sunsubscribe,\{PROBE\}:live,0$/);
  });
});

describe('RedisBroker on a Redis Cluster: topology changes', () => {
  test('a resharding moves a subscribed channel to its new owner: every entry delivered once, in order', async () => {
    const { broker, prefix } = openClusterTestBroker(cluster.seeds);
    await broker.ready();
    const channel = 'RESHARD';
    const slot = keySlot(`{${channel}}`);
    const from = await cluster.ownerOf(slot);
    const to = (await cluster.masters()).find((node) => node !== from)!;
    const rec = recorder();
    await broker.subscribe(channel, rec.listener);
    await broker.append(channel, signals(1, 5));
    await waitFor(() => rec.calls.flat().length === 5, 5000, 'before the move');

    await moveSlot(cluster, slot, to);
    const live = channelKeys(prefix, channel).live;
    await waitFor(async () => (await clientOf(to).pubsub('SHARDCHANNELS', live)).length === 1, 10_000, 'the subscription on the new owner');
    expect(await clientOf(from).pubsub('SHARDCHANNELS', live)).toEqual([]);
    await broker.append(channel, signals(6, 5));
    await waitFor(() => new Set(rec.calls.flat().map((entry) => entry.seq)).size === 10, 5000, 'after the move');
    // Announced or caught up: each entry once, in order.
    expect(rec.calls.flat().map((entry) => entry.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect((await broker.history(channel, { limit: 100 })).entries.map((e) => e.signal.id)).toEqual(signals(1, 10).map((s) => s.id));
  });

  test('WAIT for replicas: ackReplicas 1 answers once a replica has the append; a hung replica means 503, and the retry is a duplicate', async () => {
    const { broker } = openClusterTestBroker(cluster.seeds, { ackReplicas: 1, ackTimeoutMs: 300, commandTimeoutMs: 2000 });
    await broker.ready();
    const channel = 'ACKED';
    const first = await broker.append(channel, signals(1, 2));
    expect(first.results.map((r) => r.seq)).toEqual([1, 2]);
    const owner = await cluster.ownerOf(keySlot(`{${channel}}`));
    const ownerId = String(await clientOf(owner).cluster('MYID'));
    const replicaAddress = (await cluster.view()).find((node) => node.masterId === ownerId)?.address;
    const replica = cluster.nodes.find((node) => node.address === replicaAddress);
    if (!replica) throw new Error(`no replica of ${owner.address}`);
    replica.pause();
    try {
      const error = await broker.append(channel, signals(3, 1)).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(BrokerUnavailableError);
      expect(String(error)).toMatch(/0 of the 1 replicas/);
    } finally {
      replica.resume();
    }
    // Stored on the master all the same: the publisher's retry finds it.
    const retry = await broker.append(channel, signals(3, 1));
    expect(retry.results).toEqual([{ id: 's3', seq: 3, duplicate: true }]);
  });

  test('a master SIGKILLed: its replica takes over, subscriptions move there, appends work again, nothing delivered twice', async () => {
    const { broker, prefix } = openClusterTestBroker(cluster.seeds, { commandTimeoutMs: 1000 });
    await broker.ready();
    const channel = 'FAILOVER';
    const slot = keySlot(`{${channel}}`);
    const rec = recorder();
    await broker.subscribe(channel, rec.listener);
    await broker.append(channel, signals(1, 3));
    await waitFor(() => rec.calls.flat().length === 3, 5000, 'before the failover');
    const old = await cluster.ownerOf(slot);
    // Make sure the replica has everything, so that this test is about the move, not about loss.
    await clientOf(old).wait(1, 2000);
    await old.kill();
    // One shard failing over leaves the broker healthy (the other shards serve), and says so.
    await waitFor(async () => {
      const health = await broker.health();
      return health.ok && /moving to a new shard master/.test(health.detail ?? '');
    }, 10_000, 'health to report the subscription waiting for its new master');

    await waitFor(async () => (await cluster.view().then((view) => slotOwners(view)[slot])) !== old.address, 20_000, 'the replica promoted');
    const promoted = await cluster.ownerOf(slot);
    const live = channelKeys(prefix, channel).live;
    await waitFor(async () => (await clientOf(promoted).pubsub('SHARDCHANNELS', live)).length === 1, 20_000, 'the subscription on the promoted replica');
    // Appends fail (503) until the client's slot map knows the new master, then succeed.
    await waitFor(async () => (await broker.append(channel, signals(4, 2)).then(() => true, () => false)), 20_000, 'an append on the new master');
    await waitFor(() => new Set(rec.calls.flat().map((e) => e.seq)).size === 5, 5000, 'delivery after the failover');
    expect(rec.calls.flat().map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5]);
    await waitFor(async () => (await broker.health()).detail === undefined, 10_000, 'every subscription in place again');
    // The old master comes back as a replica of the new one.
    await old.restart();
    await cluster.waitForHealthy();
  });
});
