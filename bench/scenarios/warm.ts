import type { BenchClient, BenchSignal } from '../clients/adapter.js';
import { createClient } from '../clients/index.js';
import { nowMs, waitUntil } from '../lib/timing.js';
import type { Expected } from '../load/tracker.js';
import type { BenchNode } from '../systems/types.js';
import { clientOptions } from './measure.js';
import type { JobPlan } from './types.js';

/**
 * Makes the replay-storm channel warm: one subscriber stays on it (so a hub keeps the channel's
 * ring) and `count` entries are published and seen by that subscriber before the storm.
 */
export async function warmUp(plan: JobPlan, pubNode: BenchNode, subNode: BenchNode): Promise<{ expected: Expected; stop(): Promise<void> }> {
  const warm = plan.warm;
  if (!warm) throw new Error('warmUp without a warm plan');
  let seen = 0;
  const watcher: BenchClient = createClient(plan.system, clientOptions(plan, subNode), { onEntry: () => void seen++ });
  await watcher.connect();
  for (const channel of warm.channels) await watcher.subscribe(channel);
  const publisher = createClient(plan.system, { ...clientOptions(plan, pubNode), publisherOnly: true }, { onEntry: () => {} });
  await publisher.connect();
  const expected: Expected = {};
  for (const channel of warm.channels) {
    for (let n = 1; n <= warm.count; n += 100) {
      const batch: BenchSignal[] = [];
      for (let k = n; k < n + 100 && k <= warm.count; k++) batch.push({ channel, n: k, sent: nowMs() });
      for (const ack of await publisher.publish(batch)) expected[ack.channel] = Math.max(expected[ack.channel] ?? 0, ack.seq);
    }
  }
  await publisher.close();
  const total = warm.count * warm.channels.length;
  if (!(await waitUntil(() => seen >= total, 10_000))) throw new Error(`warm-up subscriber saw ${seen} of ${total} entries`);
  return { expected, stop: () => watcher.close() };
}
