import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPublisher } from '../../clients/publisher.js';
import { connect, type Entry, type ResetFrame } from '../../clients/sigcast-client.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { freePort, startSigcastProcess } from '../support/sigcast-process.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * The one server a subscriber and a bot both talk to is restarted in the middle of a stream, on
 * the same address: as a crash (SIGKILL: no close frame, in-flight requests cut) and as a
 * graceful restart (SIGTERM: close 1001). The bot's publisher retries through the gap; the
 * subscriber must deliver every acknowledged signal exactly once, in order, with no reset.
 * (test/clients/resume.test.ts covers a graceful stop while another node keeps ingesting.)
 */
let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each([
  { signal: 'SIGKILL', encoding: 'msgpack' },
  { signal: 'SIGTERM', encoding: 'json' },
] as const)('subscriber across a restart of its only server ($signal, $encoding, real processes)', ({ signal, encoding }) => {
  it('delivers every acknowledged signal exactly once, in order, with no reset', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `restart-${signal}` };
    let server = await startSigcastProcess(env, port);
    const channel = `restart.${encoding}`;
    const subscriber = connect(server.wsUrl, { WebSocket, encoding, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
    const seen: Entry[] = [];
    const resets: ResetFrame[] = [];
    const closes: number[] = [];
    let lives = 0;
    subscriber.on('close', (info) => closes.push(info.code));
    subscriber.subscribe(channel, { since: 0, onReset: (reset) => resets.push(reset), onLive: () => (lives += 1) }, (entry) => seen.push(entry));

    const publisher = createPublisher({ url: server.baseUrl, maxBatch: 20, retry: { initialDelayMs: 50, maxDelayMs: 300 } });
    const acked: number[] = [];
    let publishing = true;
    const bot = (async () => {
      for (let i = 0; publishing; i += 1) {
        // One signal every few ms, each awaited in groups of ten: a stream that never pauses for long.
        const group = Array.from({ length: 10 }, (_, k) => publisher.publish({ symbol: 'BTCUSDT', side: 'BUY', strength: 0.5, channels: [channel], meta: { n: i * 10 + k } }));
        for (const result of await Promise.all(group)) acked.push(result.seq);
        await delay(5);
      }
    })();
    try {
      await waitFor(() => lives === 1 && seen.length >= 100, 20_000, 'entries before the restart');
      expect(await server.stop(signal)).toBe(signal === 'SIGKILL' ? null : 0);
      const ackedAtStop = acked.length;
      await delay(1_000);
      expect(acked.length - ackedAtStop).toBeLessThanOrEqual(20); // nothing is acknowledged while no server runs
      server = await startSigcastProcess(env, port);
      await waitFor(() => lives === 2, 20_000, 'the re-subscription after the restart');
      const ackedAtResume = acked.length;
      await waitFor(() => acked.length >= ackedAtResume + 100, 20_000, 'signals acknowledged after the restart');
    } finally {
      publishing = false;
      await bot;
      await publisher.close();
    }
    await waitFor(() => seen.length >= acked.length, 20_000, 'every acknowledged signal');
    await delay(200); // a duplicate would arrive now

    expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => i + 1));
    expect(seen.map((entry) => entry.seq)).toEqual(acked);
    expect(new Set(seen.map((entry) => entry.epoch)).size).toBe(1);
    expect(resets).toEqual([]);
    expect(closes[0]).toBe(signal === 'SIGKILL' ? 1006 : 1001);
    expect(publisher.stats.retries).toBeGreaterThan(0);
    await subscriber.close();
    await server.stop();
  });
});
