import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/** Nodes are interchangeable: any node's publish reaches every node's subscribers, and a client resumes on another node. */
describe('several nodes on one Redis', () => {
  let redis: RedisServerHandle;
  let nodeA: Awaited<ReturnType<typeof startTestNode>>;
  let nodeB: Awaited<ReturnType<typeof startTestNode>>;

  beforeAll(async () => {
    redis = await startRedisServer();
    nodeA = await startTestNode({ REDIS_URL: redis.url, NODE_ID: 'node-a' });
    nodeB = await startTestNode({ REDIS_URL: redis.url, NODE_ID: 'node-b' });
  });

  afterAll(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    await redis?.stop();
  });

  it('delivers what is published on node A to subscribers of node B, once and in order', async () => {
    const onB = await TestClient.connect(nodeB.wsUrl);
    const onA = await TestClient.connect(nodeA.wsUrl);
    await onB.subscribe('X.NODES');
    await onA.subscribe('X.NODES');
    for (let i = 0; i < 20; i += 1) {
      const target = i % 2 === 0 ? nodeA : nodeB;
      expect((await postSignals(target.baseUrl, Array.from({ length: 25 }, () => signal('X.NODES')))).status).toBe(200);
    }
    const all = Array.from({ length: 500 }, (_, i) => i + 1);
    await waitFor(() => onB.entries('X.NODES').length === 500 && onA.entries('X.NODES').length === 500, 10_000, 'both nodes');
    expect(onB.seqs('X.NODES')).toEqual(all);
    expect(onA.seqs('X.NODES')).toEqual(all);
    await Promise.all([onA.close(), onB.close()]);
  });

  it('lets a client that was on node A resume on node B without loss or duplicate', async () => {
    const first = await TestClient.connect(nodeA.wsUrl);
    await first.subscribe('X.MOVE');
    await postSignals(nodeA.baseUrl, Array.from({ length: 30 }, () => signal('X.MOVE')));
    await waitFor(() => first.entries('X.MOVE').length === 30);
    const last = first.entries('X.MOVE').at(-1)!;
    await first.close();

    // Published while the client is between nodes.
    await postSignals(nodeB.baseUrl, Array.from({ length: 12 }, () => signal('X.MOVE')));
    const second = await TestClient.connect(nodeB.wsUrl);
    await second.subscribe('X.MOVE', { since: last.seq, epoch: last.epoch });
    await postSignals(nodeA.baseUrl, Array.from({ length: 8 }, () => signal('X.MOVE')));
    await waitFor(() => second.entries('X.MOVE').length === 20);
    expect(second.seqs('X.MOVE')).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
    expect(second.ofType('reset')).toEqual([]);
    await second.close();
  });

  it('recognizes a re-sent id on another node and does not deliver it twice', async () => {
    const watcher = await TestClient.connect(nodeB.wsUrl);
    await watcher.subscribe('X.IDEM');
    const onA = await postSignals(nodeA.baseUrl, signal('X.IDEM', { id: 'retry-1' }));
    const onB = await postSignals(nodeB.baseUrl, signal('X.IDEM', { id: 'retry-1' }));
    expect(onB.body.entries[0]).toMatchObject({ seq: onA.body.entries[0].seq, duplicate: true });
    await postSignals(nodeB.baseUrl, signal('X.IDEM', { id: 'retry-2' }));
    await waitFor(() => watcher.entries('X.IDEM').length === 2);
    expect(watcher.entries('X.IDEM').map((e) => e.signal.id)).toEqual(['retry-1', 'retry-2']);
    await watcher.close();
  });
});
