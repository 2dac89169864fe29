// Finding 5 of issue 9, the stated bound: one channel holds at most
// channelMemoryBound(HISTORY_SIZE, MAX_SIGNAL_BYTES) bytes of Redis memory, measured with
// MEMORY USAGE over its keys after more than a history of signals of the largest size allowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { channelMemoryBound } from '../../src/broker/redis-memory.js';
import { planPublish } from '../../src/signal/publish-request.js';
import { signalBytes } from '../../src/signal/signal-size.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { openTestBroker } from '../support/test-broker.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

/** A signal whose stored JSON is as close to `maxBytes` as it gets: meta values of 3-byte chars, or of chars JSON escapes to 6 bytes. */
function largestSignal(id: string, maxBytes: number, escaped: boolean) {
  const limits = { maxBatch: 1, maxChannelsPerSignal: 16, maxSignalBytes: Number.MAX_SAFE_INTEGER };
  const meta: Record<string, string> = {};
  const char = escaped ? '\u0001' : '\u20ac';
  for (let key = 0; key < 32; key++) {
    meta[`k${key}`] = '';
    for (let length = 0; length < 256; length++) {
      meta[`k${key}`] += char;
      const size = signalBytes(planPublish({ symbol: 'BIG', side: 'BUY', strength: 1, id, ts: 1, meta }, limits).batches[0]!.signals[0]!);
      if (size > maxBytes) {
        meta[`k${key}`] = meta[`k${key}`]!.slice(0, -1);
        return planPublish({ symbol: 'BIG', side: 'BUY', strength: 1, id, ts: 1, meta }, limits).batches[0]!.signals[0]!;
      }
    }
  }
  return planPublish({ symbol: 'BIG', side: 'BUY', strength: 1, id, ts: 1, meta }, limits).batches[0]!.signals[0]!;
}

describe('Redis memory per channel', () => {
  it.each([
    { historySize: 100, maxSignalBytes: 16384, escaped: false },
    { historySize: 100, maxSignalBytes: 16384, escaped: true },
    { historySize: 300, maxSignalBytes: 1024, escaped: false },
  ])('stays under channelMemoryBound($historySize, $maxSignalBytes) (escaped meta: $escaped)', async ({ historySize, maxSignalBytes, escaped }) => {
    const { broker, prefix } = openTestBroker(server.url, { historySize });
    await broker.ready();
    const template = largestSignal('x'.repeat(64), maxSignalBytes, escaped);
    expect(signalBytes(template)).toBeGreaterThan(maxSignalBytes * 0.97);
    expect(signalBytes(template)).toBeLessThanOrEqual(maxSignalBytes);
    // More than a history's worth, with the longest ids: the list and the id record are full.
    for (let batch = 0; batch < 3; batch++) {
      const signals = Array.from({ length: Math.ceil(historySize / 2) }, (_, i) => ({ ...template, id: `${batch}-${i}-`.padEnd(64, 'z') }));
      await broker.append('BIG', signals);
    }
    const client = server.client();
    const keys = channelKeys(prefix, 'BIG');
    let used = 0;
    for (const key of [keys.log, keys.meta, keys.ids]) used += Number(await client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    client.disconnect();
    const bound = channelMemoryBound(historySize, maxSignalBytes);
    expect(used).toBeGreaterThan(historySize * maxSignalBytes * 0.9);
    expect(used).toBeLessThanOrEqual(bound);
    process.stdout.write(`history ${historySize} x max ${maxSignalBytes} B (escaped ${escaped}): ${used} B used, bound ${bound} B\n`);
  });
});
