// The own-append fast path of RedisBroker, on a real redis-server: a node's own appends reach its
// listener from the append itself (never by parsing their announcement), and two nodes appending
// to one channel at once still hand every entry exactly once, in seq order, with the same content.
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { entryJson } from '../../src/signal/entry-json.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { openTestBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';
import { recorder, signals } from './broker.case.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('RedisBroker own-append fast path', () => {
  test('each own batch is handed by the time its append resolves, and its announcement is never parsed', async () => {
    const { broker } = openTestBroker(server.url);
    await broker.ready();
    const rec = recorder();
    await broker.subscribe('OWN', rec.listener);
    // The first announcement after a subscribe is what the fast path continues from.
    await broker.append('OWN', signals(0, 1, 'warm'));
    await waitFor(() => rec.calls.length === 1);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (let i = 0; i < 100; i++) {
        const { results } = await broker.append('OWN', signals(i * 3, 3));
        expect(rec.calls.at(-1)?.map((entry) => entry.seq)).toEqual(results.map((result) => result.seq));
      }
      // Their announcements all came (each was dropped unparsed: it was handed already).
      await broker.append('OWN', signals(0, 1, 'last'));
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    expect(rec.seqs().flat()).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
  });

  test('two nodes appending to one channel at once: each listener gets every seq once, in order, the same entries', async () => {
    const a = openTestBroker(server.url);
    const b = openTestBroker(server.url, { keyPrefix: a.prefix });
    await Promise.all([a.broker.ready(), b.broker.ready()]);
    const onA = recorder();
    const onB = recorder();
    await a.broker.subscribe('BOTH', onA.listener);
    await b.broker.subscribe('BOTH', onB.listener);
    // Interleaved and pipelined: several appends of each node in flight together.
    const appends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      appends.push(a.broker.append('BOTH', signals(i * 5, 5, 'a')));
      appends.push(b.broker.append('BOTH', signals(i * 5, 5, 'b')));
      if (i % 10 === 9) await Promise.all(appends.splice(0));
    }
    await Promise.all(appends);
    const all = Array.from({ length: 600 }, (_, i) => i + 1);
    await waitFor(() => onA.seqs().flat().length >= 600 && onB.seqs().flat().length >= 600, 10_000, 'both listeners');
    const handedA = onA.calls.flat();
    const handedB = onB.calls.flat();
    expect(handedA.map((entry) => entry.seq)).toEqual(all);
    expect(handedB.map((entry) => entry.seq)).toEqual(all);
    // Built from the append on one node, parsed from the announcement on the other: identical.
    expect(handedA).toEqual(handedB);
    expect(handedA.map(entryJson)).toEqual(handedB.map(entryJson));
    const history = await a.broker.history('BOTH', { limit: 1000 });
    expect(history.entries.map(entryJson)).toEqual(handedA.map(entryJson));
  });

  test('an append that timed out but was stored later still reaches the listener, in order, through its announcement', async () => {
    const { broker, prefix } = openTestBroker(server.url, { commandTimeoutMs: 150 });
    const other = openTestBroker(server.url, { keyPrefix: prefix });
    const admin = server.client();
    await Promise.all([broker.ready(), other.broker.ready()]);
    const rec = recorder();
    await broker.subscribe('LATE', rec.listener);
    try {
      // Writes wait in Redis: the append times out here, then runs once the pause ends.
      await admin.call('CLIENT', 'PAUSE', '600', 'WRITE');
      const timedOut = await broker.append('LATE', signals(0, 2, 'late')).then(
        () => false,
        () => true,
      );
      expect(timedOut).toBe(true);
      const later = other.broker.append('LATE', signals(0, 1, 'other'));
      await later;
      await waitFor(() => rec.seqs().flat().length === 3, 5000, 'all three entries');
      expect(rec.seqs().flat()).toEqual([1, 2, 3]);
      expect(rec.calls.flat().map((entry) => entry.signal.id)).toEqual(['late0', 'late1', 'other0']);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
    }
  });
});
