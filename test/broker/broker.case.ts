import { describe, expect, onTestFinished, test } from 'vitest';
import type { Broker, LiveListener } from '../../src/broker/broker.js';
import type { Entry, Signal } from '../../src/signal/schema.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * The Broker contract (src/broker/broker.ts), run against every implementation.
 * Each case gets a fresh broker from `setup`, with the history size and TTL it asks for.
 */
export interface BrokerSetupOptions {
  historySize: number;
  historyTtlMs: number;
}

export interface BrokerFixture {
  broker: Broker;
  teardown(): Promise<void>;
}

const DEFAULTS: BrokerSetupOptions = { historySize: 1000, historyTtlMs: 60_000 };

export function signal(id: string, overrides: Partial<Signal> = {}): Signal {
  return {
    symbol: 'BTCUSDT',
    side: 'BUY',
    strength: 0.75,
    price: 64_250.5,
    strategy: 'momentum',
    ts: 1_700_000_000_000,
    id,
    meta: { note: 'breakout', window: 14, confirmed: true, ref: null },
    ...overrides,
  };
}

export function signals(from: number, count: number, prefix = 's'): Signal[] {
  return Array.from({ length: count }, (_, i) => signal(`${prefix}${from + i}`, { ts: 1_700_000_000_000 + from + i }));
}

/** Records every listener call (one call = one announced batch). */
export function recorder(): { calls: Entry[][]; listener: LiveListener; seqs(): number[][] } {
  const calls: Entry[][] = [];
  return {
    calls,
    listener: (entries) => calls.push(entries),
    seqs: () => calls.map((batch) => batch.map((entry) => entry.seq)),
  };
}

export function describeBrokerContract(
  name: string,
  setup: (options: BrokerSetupOptions) => Promise<BrokerFixture>,
): void {
  async function open(options: Partial<BrokerSetupOptions> = {}): Promise<Broker> {
    const fixture = await setup({ ...DEFAULTS, ...options });
    onTestFinished(() => fixture.teardown());
    return fixture.broker;
  }

  /**
   * Announcements of one channel arrive in order, so once a later sentinel batch has arrived every
   * earlier announcement has too: "nothing else was delivered" is checked without a fixed sleep.
   */
  async function flushLive(broker: Broker, channel: string, rec: ReturnType<typeof recorder>, id: string) {
    const before = rec.calls.length;
    const { results } = await broker.append(channel, [signal(id)]);
    const seq = results[0]?.seq;
    await waitFor(() => rec.calls.slice(before).some((batch) => batch.some((e) => e.seq === seq)), 5000, `sentinel ${id}`);
    return rec.calls.pop();
  }

  describe(`Broker contract: ${name}`, () => {
    describe('append', () => {
      test('seq grows by exactly 1 per entry, in batch order, across successive appends', async () => {
        const broker = await open();
        const first = await broker.append('BTCUSDT', [signal('a'), signal('b'), signal('c')]);
        const second = await broker.append('BTCUSDT', [signal('d'), signal('e')]);
        const third = await broker.append('BTCUSDT', [signal('f')]);
        expect(first.results).toEqual([
          { id: 'a', seq: 1, duplicate: false },
          { id: 'b', seq: 2, duplicate: false },
          { id: 'c', seq: 3, duplicate: false },
        ]);
        expect(second.results).toEqual([
          { id: 'd', seq: 4, duplicate: false },
          { id: 'e', seq: 5, duplicate: false },
        ]);
        expect(third.results).toEqual([{ id: 'f', seq: 6, duplicate: false }]);
      });

      test('results are in input order, not in id order', async () => {
        const broker = await open();
        const { results } = await broker.append('ETHUSDT', [signal('zz'), signal('aa'), signal('mm')]);
        expect(results.map((r) => [r.id, r.seq])).toEqual([
          ['zz', 1],
          ['aa', 2],
          ['mm', 3],
        ]);
      });

      test('stores entries with channel, seq, epoch, the storage time and the signal as given', async () => {
        const broker = await open();
        const given = [signal('x1', { side: 'SELL', strength: 0 }), signal('x2', { side: 'CLOSE', price: undefined })];
        const before = Date.now();
        const { epoch } = await broker.append('strategy.momentum', given);
        const after = Date.now();
        const page = await broker.history('strategy.momentum', { limit: 10 });
        expect(epoch).toMatch(/^[0-9a-z]+$/);
        expect(page.entries.map(({ ts: _ts, ...rest }) => rest)).toEqual([
          { channel: 'strategy.momentum', seq: 1, epoch, signal: given[0] },
          { channel: 'strategy.momentum', seq: 2, epoch, signal: given[1] },
        ]);
        for (const entry of page.entries) {
          // The entry's ts is when it was stored; the signal keeps its own ts.
          expect(entry.ts).toBeGreaterThanOrEqual(before);
          expect(entry.ts).toBeLessThanOrEqual(after);
          expect(entry.signal.ts).toBe(1_700_000_000_000);
        }
      });

      test('the epoch stays the same across appends', async () => {
        const broker = await open();
        const epochs = new Set<string>();
        for (let i = 0; i < 5; i++) epochs.add((await broker.append('BTCUSDT', signals(i * 2, 2))).epoch);
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(epochs.size).toBe(1);
        expect(page.epoch).toBe([...epochs][0]);
        expect(page.entries.every((entry) => entry.epoch === page.epoch)).toBe(true);
      });

      test('channels are independent: own seqs, epochs, histories and live streams', async () => {
        const broker = await open();
        const recA = recorder();
        const recB = recorder();
        await broker.subscribe('A', recA.listener);
        await broker.subscribe('B', recB.listener);
        const a1 = await broker.append('A', [signal('a1'), signal('a2')]);
        const b1 = await broker.append('B', [signal('b1')]);
        const a2 = await broker.append('A', [signal('a3')]);
        // The same id on another channel is not a duplicate.
        const b2 = await broker.append('B', [signal('a1')]);
        expect(a1.results.map((r) => r.seq)).toEqual([1, 2]);
        expect(a2.results.map((r) => r.seq)).toEqual([3]);
        expect(b1.results.map((r) => r.seq)).toEqual([1]);
        expect(b2.results).toEqual([{ id: 'a1', seq: 2, duplicate: false }]);
        expect(a1.epoch).not.toBe(b1.epoch);
        const pageA = await broker.history('A', { limit: 10 });
        const pageB = await broker.history('B', { limit: 10 });
        expect(pageA.entries.map((e) => [e.channel, e.signal.id])).toEqual([
          ['A', 'a1'],
          ['A', 'a2'],
          ['A', 'a3'],
        ]);
        expect(pageB.entries.map((e) => [e.channel, e.signal.id])).toEqual([
          ['B', 'b1'],
          ['B', 'a1'],
        ]);
        await waitFor(() => recA.calls.length === 2 && recB.calls.length === 2, 5000, 'live batches');
        expect(recA.calls.flat().every((e) => e.channel === 'A')).toBe(true);
        expect(recB.calls.flat().every((e) => e.channel === 'B')).toBe(true);
        expect(recA.seqs()).toEqual([[1, 2], [3]]);
        expect(recB.seqs()).toEqual([[1], [2]]);
      });
    });

    describe('history', () => {
      test('a channel never appended to has epoch "", headSeq 0 and no entries', async () => {
        const broker = await open();
        expect(await broker.history('nothing.here', { limit: 1000 })).toEqual({ epoch: '', headSeq: 0, entries: [] });
        expect(await broker.history('nothing.here', { afterSeq: 5, limit: 10 })).toEqual({
          epoch: '',
          headSeq: 0,
          entries: [],
        });
      });

      test('afterSeq and limit select the newest entries after the position, oldest first', async () => {
        const broker = await open();
        const { epoch } = await broker.append('BTCUSDT', signals(1, 10));
        const seqsOf = async (query: { afterSeq?: number; limit: number }) => {
          const page = await broker.history('BTCUSDT', query);
          expect(page.epoch).toBe(epoch);
          expect(page.headSeq).toBe(10);
          return page.entries.map((entry) => entry.seq);
        };
        expect(await seqsOf({ limit: 100 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await seqsOf({ afterSeq: 0, limit: 100 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await seqsOf({ afterSeq: 7, limit: 100 })).toEqual([8, 9, 10]);
        expect(await seqsOf({ limit: 3 })).toEqual([8, 9, 10]);
        // limit keeps the NEWEST entries after the position, not the oldest.
        expect(await seqsOf({ afterSeq: 2, limit: 3 })).toEqual([8, 9, 10]);
        expect(await seqsOf({ afterSeq: 6, limit: 2 })).toEqual([9, 10]);
        expect(await seqsOf({ afterSeq: 9, limit: 1 })).toEqual([10]);
        expect(await seqsOf({ afterSeq: 10, limit: 100 })).toEqual([]);
        expect(await seqsOf({ afterSeq: 50, limit: 100 })).toEqual([]);
        expect(await seqsOf({ limit: 0 })).toEqual([]);
        const page = await broker.history('BTCUSDT', { afterSeq: 4, limit: 2 });
        expect(page.entries.map((e) => e.signal.id)).toEqual(['s9', 's10']);
      });
    });

    describe('trimming', () => {
      test('keeps only the newest historySize entries; headSeq still counts all', async () => {
        const broker = await open({ historySize: 5 });
        await broker.append('BTCUSDT', signals(1, 3));
        await broker.append('BTCUSDT', signals(4, 4));
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(page.headSeq).toBe(7);
        expect(page.entries.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7]);
        // A position older than what is retained gets what there is.
        const after1 = await broker.history('BTCUSDT', { afterSeq: 1, limit: 100 });
        expect(after1.entries.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7]);
        // A single batch larger than the history is trimmed too.
        await broker.append('BTCUSDT', signals(100, 12));
        const big = await broker.history('BTCUSDT', { limit: 100 });
        expect(big.headSeq).toBe(19);
        expect(big.entries.map((e) => e.seq)).toEqual([15, 16, 17, 18, 19]);
      });

      test('with the real size of 1000: 1,200 appended in batches leaves exactly seqs 201..1200', async () => {
        const broker = await open({ historySize: 1000 });
        for (let from = 1; from <= 1200; from += 300) await broker.append('BTCUSDT', signals(from, 300));
        const page = await broker.history('BTCUSDT', { limit: 5000 });
        expect(page.headSeq).toBe(1200);
        expect(page.entries).toHaveLength(1000);
        expect(page.entries.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => 201 + i));
        expect(page.entries[0]?.signal.id).toBe('s201');
        // Idempotency memory is trimmed with the list: s201 is still known, s200 is not.
        const again = await broker.append('BTCUSDT', [signal('s201'), signal('s200')]);
        expect(again.results).toEqual([
          { id: 's201', seq: 201, duplicate: true },
          { id: 's200', seq: 1201, duplicate: false },
        ]);
      });
    });

    describe('idempotency', () => {
      test('a resent id returns the original seq, duplicate:true, and is neither stored nor announced again', async () => {
        const broker = await open();
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        const first = await broker.append('BTCUSDT', [signal('a'), signal('b')]);
        await waitFor(() => rec.calls.length === 1, 5000, 'first batch');
        // Same id, different content: the original stays.
        const resent = await broker.append('BTCUSDT', [signal('c'), signal('a', { side: 'SELL' }), signal('d')]);
        expect(resent.epoch).toBe(first.epoch);
        expect(resent.results).toEqual([
          { id: 'c', seq: 3, duplicate: false },
          { id: 'a', seq: 1, duplicate: true },
          { id: 'd', seq: 4, duplicate: false },
        ]);
        const onlyDuplicates = await broker.append('BTCUSDT', [signal('b'), signal('a')]);
        expect(onlyDuplicates.results).toEqual([
          { id: 'b', seq: 2, duplicate: true },
          { id: 'a', seq: 1, duplicate: true },
        ]);
        const sentinel = await flushLive(broker, 'BTCUSDT', rec, 'sentinel');
        expect(sentinel?.map((e) => e.seq)).toEqual([5]);
        // The batch of only duplicates was not announced; the mixed one announced only its new entries.
        expect(rec.seqs()).toEqual([[1, 2], [3, 4]]);
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(page.headSeq).toBe(5);
        expect(page.entries.map((e) => e.signal.id)).toEqual(['a', 'b', 'c', 'd', 'sentinel']);
        expect(page.entries[0]?.signal.side).toBe('BUY');
      });

      test('duplicates within one batch get the seq of their first occurrence', async () => {
        const broker = await open();
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        const { results } = await broker.append('BTCUSDT', [signal('x'), signal('y'), signal('x'), signal('y')]);
        expect(results).toEqual([
          { id: 'x', seq: 1, duplicate: false },
          { id: 'y', seq: 2, duplicate: false },
          { id: 'x', seq: 1, duplicate: true },
          { id: 'y', seq: 2, duplicate: true },
        ]);
        await flushLive(broker, 'BTCUSDT', rec, 'sentinel');
        expect(rec.seqs()).toEqual([[1, 2]]);
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(page.entries.map((e) => e.signal.id)).toEqual(['x', 'y', 'sentinel']);
      });

      test('an id trimmed out of history is accepted again as new', async () => {
        const broker = await open({ historySize: 3 });
        await broker.append('BTCUSDT', [signal('a'), signal('b'), signal('c'), signal('d')]);
        // Retained: b, c, d. So a is new again, c is still a duplicate.
        const again = await broker.append('BTCUSDT', [signal('a'), signal('c')]);
        expect(again.results).toEqual([
          { id: 'a', seq: 5, duplicate: false },
          { id: 'c', seq: 3, duplicate: true },
        ]);
        // Retained now: c, d, a. b was trimmed by that append.
        const b = await broker.append('BTCUSDT', [signal('b')]);
        expect(b.results).toEqual([{ id: 'b', seq: 6, duplicate: false }]);
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(page.entries.map((e) => [e.seq, e.signal.id])).toEqual([
          [4, 'd'],
          [5, 'a'],
          [6, 'b'],
        ]);
      });

      test('an idempotency scope keeps ids apart per principal; stored ids stay as published; trimmed with the history', async () => {
        const broker = await open({ historySize: 4 });
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        // Another scope (or none) using the same id is a new signal, not a duplicate of the first.
        const bot = await broker.append('BTCUSDT', [signal('order-1')], 'key:bot-7');
        const squatter = await broker.append('BTCUSDT', [signal('order-1', { side: 'SELL' })], 'key:mallory');
        const anonymous = await broker.append('BTCUSDT', [signal('order-1')]);
        expect([bot, squatter, anonymous].map((r) => r.results)).toEqual([
          [{ id: 'order-1', seq: 1, duplicate: false }],
          [{ id: 'order-1', seq: 2, duplicate: false }],
          [{ id: 'order-1', seq: 3, duplicate: false }],
        ]);
        // Within its own scope the id is a duplicate, and it is not announced again.
        const again = await broker.append('BTCUSDT', [signal('order-1'), signal('order-2')], 'key:bot-7');
        expect(again.results).toEqual([
          { id: 'order-1', seq: 1, duplicate: true },
          { id: 'order-2', seq: 4, duplicate: false },
        ]);
        // A scope is not a prefix of the id: 'key:bot' + 'x|order-1' is not a valid id, so it cannot collide.
        expect((await broker.append('BTCUSDT', [signal('order-1')], 'key:bot')).results).toEqual([{ id: 'order-1', seq: 5, duplicate: false }]);
        await flushLive(broker, 'BTCUSDT', rec, 'sentinel');
        expect(rec.seqs()).toEqual([[1], [2], [3], [4], [5]]);
        const page = await broker.history('BTCUSDT', { limit: 100 });
        expect(page.entries.map((e) => [e.seq, e.signal.id])).toEqual([
          [3, 'order-1'],
          [4, 'order-2'],
          [5, 'order-1'],
          [6, 'sentinel'],
        ]);
        // Scoped records are trimmed with the list like any other: bot-7's order-1 (seq 1) is
        // gone, so its id is new again, while its order-2 (seq 4) is still retained.
        expect((await broker.append('BTCUSDT', [signal('order-1')], 'key:bot-7')).results).toEqual([{ id: 'order-1', seq: 7, duplicate: false }]);
        expect((await broker.append('BTCUSDT', [signal('order-2')], 'key:bot-7')).results).toEqual([{ id: 'order-2', seq: 4, duplicate: true }]);
      });
    });

    describe('live', () => {
      test('a subscriber gets each batch in exactly one call, in seq order, equal to what is stored', async () => {
        const broker = await open();
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        await broker.append('BTCUSDT', signals(1, 3));
        await broker.append('BTCUSDT', signals(4, 1));
        await broker.append('BTCUSDT', signals(5, 250));
        await flushLive(broker, 'BTCUSDT', rec, 'sentinel');
        expect(rec.calls.map((batch) => batch.length)).toEqual([3, 1, 250]);
        const page = await broker.history('BTCUSDT', { limit: 1000 });
        expect(rec.calls.flat()).toEqual(page.entries.slice(0, 254));
      });

      test('entries appended before subscribe are not announced to the new subscriber', async () => {
        const broker = await open();
        await broker.append('BTCUSDT', signals(1, 2));
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        await flushLive(broker, 'BTCUSDT', rec, 'sentinel');
        expect(rec.calls).toEqual([]);
      });

      test('unsubscribe stops delivery (the entries are still stored)', async () => {
        const broker = await open();
        const recA = recorder();
        const recB = recorder();
        await broker.subscribe('A', recA.listener);
        await broker.subscribe('B', recB.listener);
        await broker.append('A', [signal('a1')]);
        await waitFor(() => recA.calls.length === 1, 5000, 'first A batch');
        await broker.unsubscribe('A');
        await broker.append('A', [signal('a2')]);
        // Both implementations deliver in publish order across channels, so once B's later batch
        // has arrived, a delivery of a2 would have arrived too.
        await flushLive(broker, 'B', recB, 'b-sentinel');
        expect(recA.seqs()).toEqual([[1]]);
        const page = await broker.history('A', { limit: 10 });
        expect(page.entries.map((e) => e.signal.id)).toEqual(['a1', 'a2']);
        // Unsubscribing a channel that is not subscribed is harmless.
        await broker.unsubscribe('A');
        await broker.unsubscribe('never');
      });

      test('subscribing again after unsubscribe delivers again', async () => {
        const broker = await open();
        const rec = recorder();
        await broker.subscribe('BTCUSDT', rec.listener);
        await broker.unsubscribe('BTCUSDT');
        await broker.subscribe('BTCUSDT', rec.listener);
        const last = await flushLive(broker, 'BTCUSDT', rec, 'again');
        expect(last?.map((e) => e.signal.id)).toEqual(['again']);
        expect(rec.calls).toEqual([]);
      });

      test('a listener that throws breaks neither appends nor other channels', async () => {
        const broker = await open();
        let thrown = 0;
        await broker.subscribe('A', () => {
          thrown += 1;
          throw new Error('listener bug');
        });
        const recB = recorder();
        await broker.subscribe('B', recB.listener);
        await broker.append('A', [signal('a1')]);
        await broker.append('A', [signal('a2')]);
        await flushLive(broker, 'B', recB, 'b1');
        expect(thrown).toBe(2);
        expect((await broker.history('A', { limit: 10 })).headSeq).toBe(2);
      });
    });

    describe('expiry', () => {
      test('history disappears historyTtlMs after the last append; the next append starts a new epoch at seq 1', async () => {
        const broker = await open({ historyTtlMs: 200 });
        const first = await broker.append('BTCUSDT', signals(1, 2));
        expect(first.results.map((r) => r.seq)).toEqual([1, 2]);
        await waitFor(async () => (await broker.history('BTCUSDT', { limit: 10 })).epoch === '', 3000, 'expiry');
        expect(await broker.history('BTCUSDT', { limit: 10 })).toEqual({ epoch: '', headSeq: 0, entries: [] });
        // The ids expired with the history: s1 is new again.
        const next = await broker.append('BTCUSDT', [signal('s1')]);
        expect(next.epoch).not.toBe(first.epoch);
        expect(next.results).toEqual([{ id: 's1', seq: 1, duplicate: false }]);
        const page = await broker.history('BTCUSDT', { limit: 10 });
        expect(page).toMatchObject({ epoch: next.epoch, headSeq: 1 });
        expect(page.entries.map((e) => e.seq)).toEqual([1]);
      });

      test('each append pushes the expiry back', async () => {
        const ttl = 1500;
        const broker = await open({ historyTtlMs: ttl });
        const first = await broker.append('BTCUSDT', signals(1, 1));
        await delay(900);
        const refreshedAt = Date.now();
        await broker.append('BTCUSDT', signals(2, 1));
        await delay(900);
        // 1.8 s after the first append, well within the TTL of the second.
        expect(Date.now() - refreshedAt).toBeLessThan(ttl);
        const page = await broker.history('BTCUSDT', { limit: 10 });
        expect(page.epoch).toBe(first.epoch);
        expect(page.entries.map((e) => e.seq)).toEqual([1, 2]);
      });
    });

    describe('existence', () => {
      test('an append says whether it created the history; exists says which channels have one', async () => {
        const broker = await open({ historyTtlMs: 200 });
        expect(await broker.exists(['NEW.A', 'NEW.B'])).toEqual([false, false]);
        expect((await broker.append('NEW.A', signals(1, 1))).created).toBe(true);
        expect((await broker.append('NEW.A', signals(2, 1))).created).toBe(false);
        // A batch of duplicates only creates nothing new.
        expect((await broker.append('NEW.A', signals(1, 1))).created).toBe(false);
        expect(await broker.exists(['NEW.A', 'NEW.B', 'NEW.A'])).toEqual([true, false, true]);
        expect(await broker.exists([])).toEqual([]);
        await waitFor(async () => (await broker.exists(['NEW.A']))[0] === false, 3000, 'expiry');
        // Expired: the next append starts it again.
        expect((await broker.append('NEW.A', signals(3, 1))).created).toBe(true);
      });

      test('liveSubscriptions counts the channels subscribed in the store', async () => {
        const broker = await open();
        expect(broker.liveSubscriptions).toBe(0);
        await broker.subscribe('L.A', () => {});
        await broker.subscribe('L.B', () => {});
        expect(broker.liveSubscriptions).toBe(2);
        await broker.unsubscribe('L.A');
        expect(broker.liveSubscriptions).toBe(1);
        await broker.unsubscribe('L.A');
        await broker.unsubscribe('L.B');
        expect(broker.liveSubscriptions).toBe(0);
      });
    });

    describe('close', () => {
      test('close is idempotent and the broker refuses work afterwards', async () => {
        const broker = await open();
        await broker.append('BTCUSDT', signals(1, 1));
        await broker.close();
        await broker.close();
        await expect(broker.append('BTCUSDT', signals(2, 1))).rejects.toThrow();
        await expect(broker.history('BTCUSDT', { limit: 1 })).rejects.toThrow();
        expect((await broker.health()).ok).toBe(false);
      });

      test('ready resolves while open and rejects once closed', async () => {
        const broker = await open();
        await expect(broker.ready()).resolves.toBeUndefined();
        await broker.close();
        await expect(broker.ready()).rejects.toThrow();
      });

      test('health is ok while open', async () => {
        const broker = await open();
        const health = await broker.health();
        expect(health.ok).toBe(true);
        expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      });
    });
  });
}
