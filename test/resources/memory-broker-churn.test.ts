// Resource test, issue 9 finding 3: the embedded memory broker with HISTORY_TTL_SECONDS=1, and one
// signal published to each of 20,000 new channels every 3 s, six rounds, against a node in its own
// process. Bound: RSS stays flat: after the last round it is at most FLAT_SLACK above what it was
// after the second (the first rounds warm the heap up; GC timing moves it by some tens of MiB,
// a round's worth of leaked channels is over 200 MiB), and under RSS_BOUND throughout; the
// expired channels are gone (a read finds none). It grew 112 MiB -> 1.4 GiB before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB, startNodeProcess, type NodeProcess } from '../support/node-process.js';
import { postSignals, signal } from '../support/sigcast.js';
import { delay } from '../support/wait.js';

const ROUNDS = 6;
const CHANNELS = 20_000;
const ROUND_MS = 3000;
const FLAT_SLACK = 64 * MiB;
const RSS_BOUND = 320 * MiB;

let node: NodeProcess;
beforeAll(async () => {
  node = await startNodeProcess({ HISTORY_TTL_SECONDS: '1', NEW_CHANNELS_PER_MINUTE: '10000000' });
});
afterAll(async () => {
  await node?.stop();
});

describe('memory broker under 6 x 20,000 expiring channels', () => {
  it('stays flat', { timeout: 180_000 }, async () => {
    const rss: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = Date.now();
      for (let first = 0; first < CHANNELS; first += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) => signal(`R${round}.${first + i}`, { meta: { note: 'x'.repeat(64) } }));
        expect((await postSignals(node.baseUrl, batch)).status).toBe(200);
      }
      await delay(Math.max(0, ROUND_MS - (Date.now() - started)));
      rss.push(node.rss());
    }
    // The first round's channels expired long ago: nothing of them is left to read.
    const history = await fetch(`${node.baseUrl}/v1/channels/R0.1/history`).then((r) => r.json() as Promise<{ headSeq: number }>);
    expect(history.headSeq).toBe(0);
    process.stdout.write(`memory broker churn: RSS after each round ${rss.map((bytes) => (bytes / MiB).toFixed(0)).join(', ')} MiB\n`);
    expect(rss.at(-1)!).toBeLessThanOrEqual(rss[1]! + FLAT_SLACK);
    expect(Math.max(...rss)).toBeLessThan(RSS_BOUND);
  });
});
