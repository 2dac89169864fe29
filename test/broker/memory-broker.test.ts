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
