import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/**
 * The spine end to end on a real redis-server: HTTP ingest -> Lua append -> pub/sub -> hub ->
 * uWS fan-out, with replay then live and no gap or duplicate at any seam.
 */
describe('spine: ingest to subscribers over real Redis', () => {
  let redis: RedisServerHandle;
  let node: Awaited<ReturnType<typeof startTestNode>>;

  beforeAll(async () => {
    redis = await startRedisServer();
    node = await startTestNode({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await node?.stop();
    await redis?.stop();
  });

  it('delivers 5,000 signals to 3 subscribers and one joining mid-stream from a seq, exactly once and in order', async () => {
    const channel = 'E2E.FIVE';
    const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(node.wsUrl)));
    for (const client of clients) await client.subscribe(channel);

    const total = 5000;
    const batchSize = 100;
    let late: TestClient | undefined;
    let lateFrom = 0;
    for (let start = 0; start < total; start += batchSize) {
      const batch = Array.from({ length: batchSize }, (_, i) => signal(channel, { strength: ((start + i) % 100) / 100 }));
      const answer = await postSignals(node.baseUrl, batch);
      expect(answer.status).toBe(200);
      expect(answer.body.entries.map((e: { seq: number }) => e.seq)).toEqual(batch.map((_, i) => start + i + 1));
      if (start === 2000) {
        // Joins while publishing goes on: resume after seq 1500 (in the same epoch).
        lateFrom = 1500;
        late = await TestClient.connect(node.wsUrl);
        late.send({ op: 'subscribe', channel, since: lateFrom, epoch: answer.body.entries[0].epoch });
      }
    }

    const expected = (from: number) => Array.from({ length: total - from }, (_, i) => from + i + 1);
    for (const client of clients) {
      await waitFor(() => client.entries(channel).length >= total, 20_000, 'all live entries');
      expect(client.seqs(channel)).toEqual(expected(0));
    }
    await waitFor(() => late!.entries(channel).length >= total - lateFrom, 20_000, 'the late subscriber catching up');
    expect(late!.seqs(channel)).toEqual(expected(lateFrom));
    expect(late!.ofType('reset')).toEqual([]);
    // The replay ended with a `live` marker that sits exactly between replayed and live entries.
    const liveMarker = late!.ofType('live')[0]!;
    const markerIndex = late!.frames.indexOf(liveMarker);
    const before = late!.frames.slice(0, markerIndex).filter((f) => f.type === 'entry');
    expect(before.at(-1)?.seq ?? lateFrom).toBe(liveMarker.seq);

    await Promise.all([...clients, late!].map((client) => client.close()));
  });

  it('fills the gap when the hub loses its Redis subscriber connection mid-stream', async () => {
    const channel = 'E2E.GAP';
    const client = await TestClient.connect(node.wsUrl);
    await client.subscribe(channel);
    const admin = redis.client();
    // A second node publishes too: the node's own appends reach its subscribers from the append
    // itself, but another node's reach it only by their announcements, which the outage loses.
    const other = await startTestNode({ REDIS_URL: redis.url, NODE_ID: 'gap-other' });
    let published = 0;
    const publishBatch = async (size: number, via = node) => {
      const answer = await postSignals(via.baseUrl, Array.from({ length: size }, () => signal(channel)));
      expect(answer.status).toBe(200);
      published += size;
    };

    await publishBatch(50);
    await waitFor(() => client.entries(channel).length === 50, 5000, 'first batch');
    // Filled from the list either as a gap (a seq jump on the live stream) or as the re-sync after the reconnect.
    const catchUps = async () => (await metricValue(node.baseUrl, 'sigcast_gap_fills_total')) + (await metricValue(node.baseUrl, 'sigcast_resyncs_total'));
    const catchUpsBefore = await catchUps();
    // Kill every pub/sub connection: announcements published now are lost for the hub...
    const killed = await admin.client('KILL', 'TYPE', 'pubsub');
    expect(Number(killed)).toBeGreaterThan(0);
    // ...while ingest (on the command connection) keeps storing them.
    for (let i = 0; i < 10; i += 1) await publishBatch(20, i % 2 === 0 ? other : node);

    await waitFor(() => client.entries(channel).length >= published, 10_000, 'gap filled from the list');
    await publishBatch(30);
    await waitFor(() => client.entries(channel).length >= published, 10_000, 'live again after the gap');
    expect(client.seqs(channel)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(await catchUps()).toBeGreaterThan(catchUpsBefore);
    await admin.quit();
    await client.close();
    await other.stop();
  });
});

async function metricValue(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
