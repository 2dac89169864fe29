import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CachedEntry } from '../../src/hub/cached-entry.js';
import { Conflator } from '../../src/hub/conflator.js';
import { topicOf, type FanOut, type SubscriberPort } from '../../src/hub/port.js';
import { Metrics } from '../../src/metrics.js';
import type { Encoding, WireFrame } from '../../src/protocol/encoding.js';
import { MSGPACK_OPTIONS } from '../../src/protocol/msgpack-options.js';
import type { Entry } from '../../src/signal/schema.js';

/**
 * The conflator, driven tick by tick (its own timer is set far out of the way): samples are the
 * newest entry, shared per encoding; every subscriber's `replaced` counts add up to exactly what it
 * did not get, whenever it joined, skipped ahead or saw a reset.
 */
const CHANNEL = 'BTCUSDT';
const INTERVAL = 60_000;
const packr = new Packr(MSGPACK_OPTIONS);

interface Got {
  type: string;
  seq?: number;
  replaced?: number;
  fromSeq?: number;
}

function decode(frame: WireFrame): Got {
  if (frame.binary) return packr.unpack(frame.payload as Uint8Array) as Got;
  const text = typeof frame.payload === 'string' ? frame.payload : Buffer.from(frame.payload).toString('utf8');
  return JSON.parse(text) as Got;
}

/** Topics and ports as a transport would keep them: a publish reaches each port that joined. */
class FakeTransport implements FanOut {
  readonly members = new Map<string, Set<FakePort>>();
  publishes = 0;
  publish(topic: string, frames: readonly WireFrame[]): void {
    this.publishes += 1;
    for (const port of this.members.get(topic) ?? []) for (const frame of frames) port.got.push(decode(frame));
  }
}

class FakePort implements SubscriberPort {
  closed = false;
  lagging = false;
  readonly got: Got[] = [];
  constructor(
    private readonly transport: FakeTransport,
    readonly encoding: Encoding = 'json',
  ) {}
  cork(fn: () => void): void {
    fn();
  }
  send(frame: WireFrame): boolean {
    this.got.push(decode(frame));
    return true;
  }
  join(topic: string): void {
    if (!this.transport.members.has(topic)) this.transport.members.set(topic, new Set());
    this.transport.members.get(topic)!.add(this);
  }
  leave(topic: string): void {
    this.transport.members.get(topic)?.delete(this);
  }
  /** Its reader takes everything at once: nothing waits in its buffer. */
  bufferedAmount(): number {
    return 0;
  }
  onDrain(): void {}
  /** Seqs of the entries it got, with what each replaced. */
  entries(): Array<[number, number]> {
    return this.got.filter((frame) => frame.type === 'entry').map((frame) => [frame.seq!, frame.replaced!]);
  }
}

function entries(from: number, to: number, epoch = 'e1'): CachedEntry[] {
  const out: CachedEntry[] = [];
  for (let seq = from; seq <= to; seq += 1) {
    const entry: Entry = { channel: CHANNEL, seq, epoch, ts: 1000 + seq, signal: { symbol: CHANNEL, side: 'BUY', strength: 0.5, ts: 1000 + seq, id: `s${seq}` } };
    out.push(new CachedEntry(entry));
  }
  return out;
}

function setup(headSeq = 0) {
  const transport = new FakeTransport();
  const metrics = new Metrics();
  const conflator = new Conflator(CHANNEL, INTERVAL, headSeq, transport, metrics);
  return { transport, metrics, conflator, port: (encoding?: Encoding) => new FakePort(transport, encoding) };
}

describe('Conflator', () => {
  it('sends each interval the newest entry once per encoding, counting what it replaced, and nothing when nothing is new', () => {
    const { transport, conflator, port } = setup(10);
    const json = port('json');
    const msgpack = port('msgpack');
    const members = [conflator.add(json, 10), conflator.add(msgpack, 10)];
    expect(transport.members.get(topicOf(CHANNEL, 'json', INTERVAL))?.has(json)).toBe(true);
    conflator.deliver(entries(11, 15));
    conflator.deliver(entries(16, 40));
    conflator.tick();
    expect(json.entries()).toEqual([[40, 29]]);
    expect(msgpack.entries()).toEqual([[40, 29]]);
    expect(transport.publishes).toBe(2); // one frame per encoding, whoever listens
    conflator.tick();
    expect(transport.publishes).toBe(2);
    conflator.deliver(entries(41, 41));
    conflator.tick();
    expect(json.entries()).toEqual([[40, 29], [41, 0]]);
    for (const member of members) member.leave();
    expect(conflator.size).toBe(0);
  });

  it('gives a subscriber joining between samples its own first entry, counted from its own position', () => {
    const { conflator, port } = setup(0);
    const early = port();
    conflator.add(early, 0);
    conflator.deliver(entries(1, 30));
    // Joins after a replay that ended at 30: the pending sample replaced 29 for the others, none for it.
    const late = port();
    conflator.add(late, 30);
    conflator.deliver(entries(31, 50));
    conflator.tick();
    expect(early.entries()).toEqual([[50, 49]]);
    expect(late.entries()).toEqual([[50, 19]]);
    conflator.deliver(entries(51, 60));
    conflator.tick();
    expect(late.entries()).toEqual([[50, 19], [60, 9]]);
  });

  it('leaves a subscriber that skipped ahead out until its reader caught up, then sends it the newest entry', () => {
    const { conflator, port, metrics } = setup(0);
    const steady = port();
    const behind = port();
    conflator.add(steady, 0);
    const member = conflator.add(behind, 0);
    conflator.deliver(entries(1, 10));
    conflator.tick();
    behind.lagging = true;
    member.skip();
    for (const to of [20, 30, 40]) {
      conflator.deliver(entries(to - 9, to));
      conflator.tick();
    }
    expect(behind.entries()).toEqual([[10, 9]]);
    behind.lagging = false;
    conflator.tick();
    expect(behind.entries()).toEqual([[10, 9], [40, 29]]);
    expect(steady.entries()).toEqual([[10, 9], [20, 9], [30, 9], [40, 9]]);
    // Back in the topic.
    conflator.deliver(entries(41, 45));
    conflator.tick();
    expect(behind.entries().at(-1)).toEqual([45, 4]);
    return metrics.conflatedReplaced.get().then((value) => expect(value.values[0]?.value).toBe(9 + 9 * 3 + 29 + 4 * 2 + 9));
  });

  it('drops what was pending at a reset, tells every subscriber, and counts again from fromSeq', () => {
    const { conflator, port } = setup(0);
    const joined = port();
    const waiting = port();
    conflator.add(joined, 0);
    conflator.deliver(entries(1, 5));
    waiting.lagging = true;
    conflator.add(waiting, 5);
    conflator.reset({ type: 'reset', channel: CHANNEL, reason: 'epoch_changed', epoch: 'e2', fromSeq: 1, requested: { since: 5, epoch: 'e1' } });
    conflator.deliver(entries(1, 3, 'e2'));
    waiting.lagging = false;
    conflator.tick();
    for (const subscriber of [joined, waiting]) {
      expect(subscriber.got.map((frame) => frame.type)).toEqual(['reset', 'entry']);
      expect(subscriber.entries()).toEqual([[3, 2]]);
    }
  });

  it('adds up for every subscriber: what it got plus what those replaced is everything after its start', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('tick' as const) }),
      fc.record({ kind: fc.constant('join' as const) }),
      fc.record({ kind: fc.constant('skip' as const), who: fc.nat() }),
      fc.record({ kind: fc.constant('catch_up' as const), who: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { conflator, port } = setup(0);
        let head = 0;
        const subscribers: Array<{ port: FakePort; start: number; skip: () => void }> = [];
        for (const action of steps) {
          if (action.kind === 'deliver') {
            conflator.deliver(entries(head + 1, head + action.count));
            head += action.count;
          } else if (action.kind === 'tick') conflator.tick();
          else if (action.kind === 'join') {
            const subscriber = port(subscribers.length % 2 ? 'msgpack' : 'json');
            subscribers.push({ port: subscriber, start: head, skip: conflator.add(subscriber, head).skip });
          } else if (subscribers.length > 0) {
            const subscriber = subscribers[action.who % subscribers.length]!;
            subscriber.port.lagging = action.kind === 'skip';
            if (action.kind === 'skip') subscriber.skip();
          }
        }
        for (const subscriber of subscribers) subscriber.port.lagging = false;
        conflator.tick();
        conflator.tick();
        for (const subscriber of subscribers) {
          const got = subscriber.port.entries();
          const seqs = got.map(([seq]) => seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          expect(got.reduce((sum, [, replaced]) => sum + replaced + 1, 0)).toBe(head - subscriber.start);
          if (head > subscriber.start) expect(seqs.at(-1)).toBe(head);
        }
      }),
    );
  });
});
