// The replay writer against a model socket: a send buffer that fills with what is written and
// empties when the test lets it drain, and a feed whose ring moves on meanwhile.
import { describe, expect, it } from 'vitest';
import { CachedEntry } from '../../src/hub/cached-entry.js';
import type { SubscriberPort } from '../../src/hub/port.js';
import { ReplayWriter, type TailSource } from '../../src/hub/replay-writer.js';
import { Ring } from '../../src/hub/ring.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import type { WireFrame } from '../../src/protocol/encoding.js';
import type { ServerFrame } from '../../src/protocol/frames.js';

class ModelSocket implements SubscriberPort {
  readonly encoding = 'json' as const;
  closed = false;
  lagging = false;
  buffered = 0;
  readonly received: ServerFrame[] = [];
  readonly topics: string[] = [];
  private drains: Array<() => void> = [];

  cork(fn: () => void): void {
    fn();
  }
  send(frame: WireFrame): boolean {
    if (this.closed) return false;
    this.buffered += typeof frame.payload === 'string' ? frame.payload.length : frame.payload.byteLength;
    this.received.push(decodeFrame(Buffer.from(frame.payload as string), false, 'json') as ServerFrame);
    return true;
  }
  join(topic: string): void {
    this.topics.push(topic);
  }
  leave(): void {}
  bufferedAmount(): number {
    return this.buffered;
  }
  onDrain(fn: () => void): void {
    this.drains.push(fn);
  }
  /** The peer read everything. */
  drain(): void {
    this.buffered = 0;
    const drains = this.drains;
    this.drains = [];
    for (const fn of drains) fn();
  }
  get waitingForDrain(): boolean {
    return this.drains.length > 0;
  }
  seqs(): number[] {
    return this.received.flatMap((frame) => (frame.type === 'entry' ? [frame.seq] : []));
  }
}

class ModelFeed implements TailSource {
  /** Writers reading this feed by seq, told before the ring drops entries (as the hub does). */
  readonly writers: ReplayWriter[] = [];
  epoch = 'e1';
  headSeq = 0;
  readonly ring = new Ring<CachedEntry>(100);
  get firstSeq(): number {
    return this.ring.first()?.seq ?? this.headSeq + 1;
  }
  entryAt(seq: number): CachedEntry | undefined {
    const first = this.ring.first();
    const entry = first ? this.ring.at(seq - first.seq) : undefined;
    return entry?.seq === seq ? entry : undefined;
  }
  publish(count: number): void {
    for (let i = 0; i < count; i++) {
      if (this.ring.size === this.ring.capacity) for (const writer of this.writers) writer.keep();
      this.headSeq += 1;
      this.ring.push(new CachedEntry({ channel: 'C', seq: this.headSeq, epoch: this.epoch, ts: 1, signal: { symbol: 'C', side: 'BUY', strength: 0.5, ts: 1, id: `i${this.headSeq}` } }));
    }
  }
}

function writerFor(socket: ModelSocket, feed: ModelFeed, replayCount: number, windowBytes: number, followTail = true) {
  const live = { type: 'live', channel: 'C', epoch: feed.epoch, seq: feed.headSeq };
  let joined = 0;
  let joinedAt: number | undefined;
  const writer = new ReplayWriter({
    subscriber: socket,
    channel: 'C',
    head: [encodeFrame({ type: 'subscribed', channel: 'C', epoch: feed.epoch, headSeq: feed.headSeq, replay: replayCount }, 'json')],
    replay: { fromSeq: feed.headSeq - replayCount + 1, count: replayCount },
    live: { frame: encodeFrame(live, 'json'), seq: live.seq, epoch: live.epoch },
    feed,
    windowBytes,
    followTail,
    joinLive: (seq) => {
      joined += 1;
      joinedAt = seq;
      socket.join('topic');
    },
  });
  feed.writers.push(writer);
  return { writer, joined: () => joined, joinedAt: () => joinedAt };
}

describe('ReplayWriter', () => {
  it('writes a replay that fits the window at once and joins live in the same call', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(10);
    const { writer, joined } = writerFor(socket, feed, 10, 1 << 20);
    writer.start();
    expect(socket.received.map((frame) => frame.type)).toEqual(['subscribed', ...Array(10).fill('entry'), 'live']);
    expect(socket.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(joined()).toBe(1);
    expect(writer.done).toBe(true);
  });

  it('holds at most a window (plus one frame) until the socket drains, then goes on', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(100);
    const { writer, joined } = writerFor(socket, feed, 100, 2000);
    writer.start();
    const frameBytes = encodeFrame(socket.received[1]!, 'json').payload.length;
    expect(socket.buffered).toBeLessThanOrEqual(2000 + frameBytes * 2);
    expect(socket.waitingForDrain).toBe(true);
    expect(joined()).toBe(0);
    let rounds = 0;
    while (!writer.done && rounds++ < 1000) {
      expect(socket.buffered).toBeLessThanOrEqual(2000 + frameBytes * 2);
      socket.drain();
    }
    expect(socket.seqs()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(joined()).toBe(1);
  });

  it('entries delivered while it waits follow the live marker in seq order, then it joins (no gap, no duplicate)', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(50);
    const { writer, joined } = writerFor(socket, feed, 50, 1500);
    writer.start();
    for (let round = 0; !writer.done && round < 1000; round++) {
      feed.publish(2);
      socket.drain();
    }
    expect(joined()).toBe(1);
    const types = socket.received.map((frame) => frame.type);
    const liveAt = types.indexOf('live');
    expect(socket.received.slice(1, liveAt).every((frame) => frame.type === 'entry')).toBe(true);
    expect(liveAt).toBe(51);
    expect(socket.seqs()).toEqual(Array.from({ length: feed.headSeq }, (_, i) => i + 1));
  });

  it('without following the tail (a conflated subscriber) it joins right after `live`, at its seq', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(50);
    const { writer, joinedAt } = writerFor(socket, feed, 50, 1500, false);
    writer.start();
    for (let round = 0; !writer.done && round < 1000; round++) {
      feed.publish(2);
      socket.drain();
    }
    expect(joinedAt()).toBe(50);
    expect(socket.received.at(-1)).toMatchObject({ type: 'live', seq: 50 });
    expect(socket.seqs()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('a subscriber left behind further than the ring holds gets a truncated reset, then what the ring has', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(20);
    const { writer } = writerFor(socket, feed, 20, 500);
    writer.start();
    feed.publish(300); // the ring (100) moves past what this subscriber still needed
    for (let round = 0; !writer.done && round < 1000; round++) socket.drain();
    const reset = socket.received.find((frame) => frame.type === 'reset');
    expect(reset).toMatchObject({ reason: 'truncated', epoch: 'e1', fromSeq: 221, requested: { since: 20, epoch: 'e1' } });
    expect(socket.seqs()).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 100 }, (_, i) => 221 + i)]);
  });

  it('keeps the replay it owes when the ring is about to drop it: the whole replay, then a truncated reset', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(100);
    const { writer } = writerFor(socket, feed, 100, 3000);
    writer.start();
    expect(socket.seqs().length).toBeLessThan(100);
    feed.publish(250); // the ring (100) drops every entry of the replay meanwhile
    for (let round = 0; !writer.done && round < 1000; round++) socket.drain();
    const types = socket.received.map((frame) => frame.type);
    expect(types.indexOf('live')).toBe(101);
    expect(socket.received[102]).toMatchObject({ type: 'reset', reason: 'truncated', fromSeq: 251, requested: { since: 100 } });
    expect(socket.seqs()).toEqual([...Array.from({ length: 100 }, (_, i) => i + 1), ...Array.from({ length: 100 }, (_, i) => 251 + i)]);
  });

  it("passes the feed's reset on in order, from where this subscriber was", () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(30);
    const { writer } = writerFor(socket, feed, 30, 400);
    writer.start();
    // The history was lost: a new epoch starting at seq 1.
    for (const reader of feed.writers) reader.keep();
    feed.ring.clear();
    feed.epoch = 'e2';
    feed.headSeq = 0;
    writer.noteReset({ reason: 'epoch_changed', epoch: 'e2', fromSeq: 1, requested: { since: 30, epoch: 'e1' } });
    feed.publish(5);
    for (let round = 0; !writer.done && round < 1000; round++) socket.drain();
    const types = socket.received.map((frame) => frame.type);
    expect(types.indexOf('reset')).toBe(types.indexOf('live') + 1);
    expect(socket.received[types.indexOf('reset')]).toMatchObject({ reason: 'epoch_changed', epoch: 'e2', fromSeq: 1, requested: { since: 30, epoch: 'e1' } });
    expect(socket.seqs()).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), 1, 2, 3, 4, 5]);
  });

  it('stops writing once stopped or closed, and never joins', () => {
    const socket = new ModelSocket();
    const feed = new ModelFeed();
    feed.publish(100);
    const { writer, joined } = writerFor(socket, feed, 100, 1000);
    writer.start();
    const written = socket.received.length;
    writer.stop();
    socket.drain();
    expect(socket.received.length).toBe(written);
    const other = writerFor(socket, feed, 100, 1000);
    other.writer.start();
    socket.closed = true;
    socket.drain();
    expect(other.joined()).toBe(0);
    expect(joined()).toBe(0);
  });
});
