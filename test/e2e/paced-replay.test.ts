// Replay of warm channels is paced by the socket's drain (issue 9, finding 4): a client that stops
// reading in the middle of long replays holds a window of them in the node's memory, not the
// replays, and is not closed for it; once it reads again it gets every entry exactly once, in
// order, replay then live, with entries published meanwhile after the `live` marker. On both
// transports, over real Redis.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { replayWindowBytes } from '../../src/transport/limits.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const CHANNELS = 8;
const ENTRIES = 1000;
/** About 1.3 KB per entry: 8 replays of 1000 are ~10 MB, more than loopback's socket buffers take. */
const META = { a: 'x'.repeat(256), b: 'y'.repeat(256), c: 'z'.repeat(256), d: 'w'.repeat(256) };

async function publish(baseUrl: string, channel: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    const batch = Array.from({ length: Math.min(500, count - done) }, () => signal(channel, { meta: META }));
    expect((await postSignals(baseUrl, batch)).status).toBe(200);
  }
}

describe.each(['uws', 'ws'] as const)('%s transport: paced replay', (transport) => {
  it('a client that stops reading mid-replay holds about a window; reading again, it gets replay, live marker, then what was published meanwhile', async () => {
    // The reader pauses on purpose: what is tested is the window, not the lag limit (MAX_LAG_MS).
    const node = await startTestNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `pace-${transport}`, TRANSPORT: transport, MAX_LAG_MS: '20000' });
    onTestFinished(() => node.stop());
    const channels = Array.from({ length: CHANNELS }, (_, i) => `PACE.${i}`);
    const keeper = await TestClient.connect(node.wsUrl);
    onTestFinished(() => keeper.close());
    for (const channel of channels) {
      await publish(node.baseUrl, channel, ENTRIES);
      await keeper.subscribe(channel);
    }

    const reader = await TestClient.connect(node.wsUrl);
    onTestFinished(() => reader.socket.terminate());
    reader.pauseReading();
    for (const channel of channels) reader.send({ op: 'subscribe', channel, last: ENTRIES });
    await delay(300);
    // The sweeper's last total: this client's window and one frame past it per replay (what the
    // kernel's socket buffers took is not the node's memory).
    const window = replayWindowBytes(4 * 1024 * 1024);
    expect(node.transport.bufferedBytes).toBeLessThanOrEqual(window + CHANNELS * 4096);
    // Published while the replays wait for the socket to drain.
    for (const channel of channels) await publish(node.baseUrl, channel, 200);
    expect(node.transport.connectionCount).toBe(2);

    reader.resumeReading();
    for (const channel of channels) await publish(node.baseUrl, channel, 100);
    const total = ENTRIES + 300;
    await waitFor(() => channels.every((channel) => reader.entries(channel).length >= total), 30_000, 'every entry');
    for (const channel of channels) {
      expect(reader.seqs(channel)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const frames = reader.frames.filter((frame) => 'channel' in frame && frame.channel === channel);
      expect(frames[0]).toMatchObject({ type: 'subscribed', headSeq: ENTRIES, replay: ENTRIES });
      // `live` sits right after the replay; what came later follows it.
      expect(frames.findIndex((frame) => frame.type === 'live')).toBe(ENTRIES + 1);
      expect(frames.find((frame) => frame.type === 'live')).toMatchObject({ seq: ENTRIES });
    }
    expect(reader.ofType('reset')).toEqual([]);
    expect(reader.closeCode).toBeUndefined();
    expect(keeper.seqs(channels[0]!)).toEqual(Array.from({ length: 300 }, (_, i) => ENTRIES + i + 1));
  });
});
