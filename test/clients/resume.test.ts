import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, type Entry, type ResetFrame } from '../../clients/sigcast-client.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/**
 * The client's promise to an app: a node going away while signals keep flowing costs nothing.
 * Node A serves the client and is stopped mid-stream; node B keeps ingesting into the same
 * redis-server; the client reconnects to a new node A' and must have seen every seq exactly once.
 */
let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each(['json', 'msgpack'] as const)('client resume across a node restart (%s, real redis-server)', (encoding) => {
  it('delivers every seq exactly once, in order, with no reset', async () => {
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `resume-${encoding}` };
    const channel = `resume.${encoding}`;
    const ingest = await startTestNode(env);
    let serving = await startTestNode(env);
    let url = serving.wsUrl;
    const client = connect(() => url, { WebSocket, encoding, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const seen: Entry[] = [];
    const resets: ResetFrame[] = [];
    const closes: number[] = [];
    let lives = 0;
    client.on('close', (info) => closes.push(info.code));
    // since 0: from the very first entry, whenever the connection comes up.
    client.subscribe(channel, { since: 0, onReset: (reset) => resets.push(reset), onLive: () => (lives += 1) }, (entry) => seen.push(entry));

    // A publisher that never stops during the restart, each POST acknowledged before the next.
    let acked = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const answer = await postSignals(ingest.baseUrl, [signal(channel, { strength: 0.1, channels: [channel] }), signal(channel, { channels: [channel] })]);
        expect(answer.status).toBe(200);
        acked = (answer.body.entries as Array<{ seq: number }>).at(-1)!.seq;
      }
    })();
    try {
      await waitFor(() => lives === 1 && seen.length >= 20, 10_000, 'live entries before the restart');
      await serving.stop();
      const seenAtStop = seen.length;
      await waitFor(() => acked >= seenAtStop + 40, 10_000, 'signals published while no node serves the client');
      serving = await startTestNode(env);
      url = serving.wsUrl;
      await waitFor(() => lives === 2, 10_000, 'the re-subscription on the new node');
      const ackedAtResume = acked;
      await waitFor(() => seen.length >= ackedAtResume + 20, 10_000, 'live entries after the restart');
    } finally {
      publishing = false;
      await publisher;
    }
    await waitFor(() => seen.at(-1)?.seq === acked, 10_000, 'the last acknowledged entry');

    // 1001 from the node's shutdown, then 1006 for each attempt while no node listened.
    expect(closes[0]).toBe(1001);
    expect(closes.slice(1).every((code) => code === 1006)).toBe(true);
    expect(resets).toEqual([]);
    expect(seen.map((entry) => entry.seq)).toEqual(Array.from({ length: acked }, (_, i) => i + 1));
    expect(new Set(seen.map((entry) => entry.epoch)).size).toBe(1);
    await client.close();
    await Promise.all([serving.stop(), ingest.stop()]);
  });
});
