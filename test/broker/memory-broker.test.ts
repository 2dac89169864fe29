import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { waitFor } from '../support/wait.js';
import { describeBrokerContract, signal } from './broker.case.js';

describeBrokerContract('MemoryBroker', async (options) => {
  const broker = new MemoryBroker(options);
  return { broker, teardown: () => broker.close() };
});

describe('MemoryBroker frees expired channels without being asked (issue 9, finding 3)', () => {
  it('a sweep frees exactly the channels whose TTL passed, oldest append first; an append keeps its channel', async () => {
    let now = 0;
    const broker = new MemoryBroker({ historySize: 10, historyTtlMs: 1000, now: () => now, expirySweepMs: 60_000 });
    for (let i = 0; i < 1000; i++) await broker.append(`OLD.${i}`, [signal(`o${i}`)]);
    now = 500;
    for (let i = 0; i < 1000; i++) await broker.append(`NEW.${i}`, [signal(`n${i}`)]);
    await broker.append('OLD.7', [signal('again')]);
    expect(broker.channelCount).toBe(2000);
    now = 1000;
    expect(broker.sweepExpired()).toBe(999);
    expect(broker.channelCount).toBe(1001);
    expect((await broker.history('OLD.7', { limit: 10 })).entries).toHaveLength(2);
    now = 1500;
    expect(broker.sweepExpired()).toBe(1001);
    expect(broker.channelCount).toBe(0);
    await broker.close();
  });

  it('its timer frees channels nobody reads again', async () => {
    const broker = new MemoryBroker({ historySize: 10, historyTtlMs: 50, expirySweepMs: 10 });
    for (let i = 0; i < 500; i++) await broker.append(`T.${i}`, [signal(`t${i}`)]);
    expect(broker.channelCount).toBe(500);
    await waitFor(() => broker.channelCount === 0, 2000, 'the expiry sweep');
    await broker.close();
  });
});

describe('MemoryBroker trims in bulk', () => {
  it('keeps exactly the newest entries and their ids through many trims, whatever the page asked for', async () => {
    const historySize = 100;
    const broker = new MemoryBroker({ historySize, historyTtlMs: 60_000 });
    let head = 0;
    for (let round = 0; round < 40; round++) {
      // Batches of 1 to 37 signals, so trims land on every offset of the compaction point.
      const size = 1 + ((round * 7) % 37);
      const { results } = await broker.append('BULK', Array.from({ length: size }, (_, i) => signal(`id${head + i + 1}`)));
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: size }, (_, i) => head + i + 1));
      head += size;
      const oldest = Math.max(1, head - historySize + 1);
      for (const [afterSeq, limit] of [[0, 1000], [oldest - 5, 10], [oldest + 3, 1000], [head - 1, 5], [head, 5], [head + 10, 5], [0, 0]] as const) {
        const page = await broker.history('BULK', { afterSeq, limit });
        const from = Math.max(oldest, afterSeq + 1);
        const expected = Array.from({ length: Math.max(0, head - from + 1) }, (_, i) => from + i).slice(limit <= 0 ? Infinity : -limit);
        expect(page.entries.map((entry) => entry.seq), `round ${round}, after ${afterSeq}, limit ${limit}`).toEqual(limit <= 0 ? [] : expected);
        expect(page.headSeq).toBe(head);
      }
      // A retained id is a duplicate; one trimmed away is a new signal.
      const retained = await broker.append('BULK', [signal(`id${oldest}`)]);
      expect(retained.results[0]).toMatchObject({ seq: oldest, duplicate: true });
    }
    const trimmedId = `id${head - historySize}`;
    const again = await broker.append('BULK', [signal(trimmedId)]);
    expect(again.results[0]).toMatchObject({ seq: head + 1, duplicate: false });
    await broker.close();
  });
});
