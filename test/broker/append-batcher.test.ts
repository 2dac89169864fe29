// AppendBatcher: the appends of one tick leave as one call per group, in order, within the caps;
// a failed call fails its own requests only.
import { describe, expect, it } from 'vitest';
import { AppendBatcher, MAX_PARTS_PER_CALL, MAX_SIGNALS_PER_CALL, type AppendRequest } from '../../src/broker/append-batcher.js';
import { channelKeys } from '../../src/broker/redis-keys.js';

const request = (channel: string, group = '', signalCount = 1): AppendRequest => ({ keys: channelKeys('p', channel), part: [channel], signalCount, group });

function recordingBatcher(fail?: (parts: readonly string[][]) => boolean) {
  const calls: string[][] = [];
  const batcher = new AppendBatcher(async (keys, _nowMs, parts) => {
    expect(keys).toHaveLength(4 * parts.length);
    calls.push(parts.map((part) => part[0]!));
    if (fail?.(parts)) throw new Error('refused');
    return parts.map((part) => `reply:${part[0]}`);
  });
  return { batcher, calls };
}

describe('AppendBatcher', () => {
  it('sends the appends of one tick as one call, each getting its own reply and the call time', async () => {
    const { batcher, calls } = recordingBatcher();
    const outcomes = await Promise.all(['A', 'B', 'A', 'C'].map((channel) => batcher.add(request(channel))));
    expect(calls).toEqual([['A', 'B', 'A', 'C']]);
    expect(outcomes.map((outcome) => outcome.reply)).toEqual(['reply:A', 'reply:B', 'reply:A', 'reply:C']);
    expect(new Set(outcomes.map((outcome) => outcome.nowMs)).size).toBe(1);
  });

  it('takes appends made by the promise continuations of the same turn, and leaves later turns to their own call', async () => {
    const { batcher, calls } = recordingBatcher();
    const first = batcher.add(request('A'));
    const chained = Promise.resolve().then(() => Promise.resolve()).then(() => batcher.add(request('B')));
    await Promise.all([first, chained]);
    await new Promise((resolve) => setImmediate(resolve));
    await batcher.add(request('C'));
    expect(calls).toEqual([['A', 'B'], ['C']]);
  });

  it('keeps groups (a cluster\'s channels) apart, and the order within each', async () => {
    const { batcher, calls } = recordingBatcher();
    await Promise.all([request('A', 'x'), request('B', 'y'), request('C', 'x'), request('D', 'y')].map((r) => batcher.add(r)));
    expect(calls).toEqual([
      ['A', 'C'],
      ['B', 'D'],
    ]);
  });

  it('splits a tick over several calls, in order, past the part and signal caps', async () => {
    const { batcher, calls } = recordingBatcher();
    const many = Array.from({ length: MAX_PARTS_PER_CALL + 3 }, (_, i) => request(`C${i}`));
    await Promise.all(many.map((r) => batcher.add(r)));
    expect(calls.map((call) => call.length)).toEqual([MAX_PARTS_PER_CALL, 3]);
    expect(calls.flat()).toEqual(many.map((r) => r.part[0]));
    calls.length = 0;
    const big = [request('X', '', MAX_SIGNALS_PER_CALL - 1), request('Y', '', 2), request('Z', '', MAX_SIGNALS_PER_CALL + 10)];
    await Promise.all(big.map((r) => batcher.add(r)));
    // A part bigger than the cap goes alone: a part is never split.
    expect(calls).toEqual([['X'], ['Y'], ['Z']]);
  });

  it('a failed call rejects its own requests only', async () => {
    const { batcher } = recordingBatcher((parts) => parts.some((part) => part[0] === 'BAD'));
    const results = await Promise.allSettled([batcher.add(request('OK', 'x')), batcher.add(request('BAD', 'y')), batcher.add(request('ALSO', 'y'))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('refuses a reply that does not hold one answer per part', async () => {
    const batcher = new AppendBatcher(async () => ['only one']);
    const results = await Promise.allSettled([batcher.add(request('A')), batcher.add(request('B'))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
