import { describe, expect, it } from 'vitest';
import { LagMonitor, LagProbes, lagTickMs, type Probed } from '../../src/transport/lag-monitor.js';

/** A socket whose probes are recorded; the test plays the client reading them back. */
class FakeSocket implements Probed {
  closed = false;
  readonly lag = new LagProbes();
  readonly sent: Uint8Array[] = [];
  constructor() {
    this.lag.watched = true;
  }
  probe(payload: Uint8Array): void {
    this.sent.push(payload);
  }
  write(): void {
    this.lag.written = true;
  }
}

function monitor(sockets: FakeSocket[], options: { maxLagMs?: number; skip?: boolean; members?: Map<string, FakeSocket[]> } = {}) {
  const lagging: Array<[FakeSocket, number]> = [];
  const observed: number[] = [];
  const lagMonitor = new LagMonitor(
    sockets,
    {
      maxLagMs: options.maxLagMs ?? 1000,
      onLagging: (socket, lagMs) => {
        lagging.push([socket, lagMs]);
        if (!options.skip) socket.closed = true;
        return options.skip ?? false;
      },
      observe: (lagMs) => observed.push(lagMs),
    },
    options.members ? (topic) => options.members!.get(topic) : undefined,
  );
  return { lagMonitor, lagging, observed };
}

describe('lag probes', () => {
  it('ticks at a quarter of the limit, within 25..500 ms', () => {
    expect(lagTickMs(2000)).toBe(500);
    expect(lagTickMs(800)).toBe(200);
    expect(lagTickMs(100)).toBe(25);
    expect(lagTickMs(60_000)).toBe(500);
  });

  it('probes only sockets written to since their last probe, and only once the client spoke', () => {
    const idle = new FakeSocket();
    const busy = new FakeSocket();
    const mute = new FakeSocket();
    mute.lag.watched = false;
    const { lagMonitor } = monitor([idle, busy, mute]);
    busy.write();
    mute.write();
    lagMonitor.tick(0);
    expect([idle.sent.length, busy.sent.length, mute.sent.length]).toEqual([0, 1, 0]);
    lagMonitor.tick(100); // nothing written since
    expect(busy.sent.length).toBe(1);
    busy.write();
    lagMonitor.tick(200);
    expect(busy.sent.length).toBe(2);
    expect(busy.lag.inFlight).toBe(2);
  });

  it('measures the round trip of the answered probe; an answer retires every older probe too', () => {
    const socket = new FakeSocket();
    const { lagMonitor, observed } = monitor([socket]);
    for (const now of [0, 100, 200]) {
      socket.write();
      lagMonitor.tick(now);
    }
    // A client may answer only the newest of several pings.
    lagMonitor.onPong(socket, socket.sent[2]!, 450);
    expect(observed).toEqual([250]);
    expect(socket.lag.inFlight).toBe(0);
    // A pong of something else (a heartbeat, a retired probe, garbage) is ignored.
    lagMonitor.onPong(socket, socket.sent[0]!, 500);
    lagMonitor.onPong(socket, new Uint8Array(0), 500);
    lagMonitor.onPong(socket, new Uint8Array([1, 2, 3, 4, 5]), 500);
    expect(observed).toEqual([250]);
  });

  it('acts on a socket whose oldest unanswered probe is older than the limit, not before', () => {
    const reader = new FakeSocket();
    const stuck = new FakeSocket();
    const { lagMonitor, lagging } = monitor([reader, stuck], { maxLagMs: 1000 });
    let now = 0;
    for (; now <= 1000; now += 125) {
      reader.write();
      stuck.write();
      lagMonitor.tick(now);
      // The reader answers each probe one tick later: 125 ms behind.
      const previous = reader.sent.at(-2);
      if (previous) lagMonitor.onPong(reader, previous, now);
    }
    expect(lagging).toEqual([]);
    reader.write();
    stuck.write();
    lagMonitor.tick(now);
    expect(lagging).toEqual([[stuck, now]]);
    expect(stuck.closed).toBe(true);
    expect(reader.closed).toBe(false);
  });

  it('asks once for a socket that skipped ahead, and again only after it caught up', () => {
    const socket = new FakeSocket();
    const { lagMonitor, lagging } = monitor([socket], { maxLagMs: 1000, skip: true });
    socket.write();
    lagMonitor.tick(0);
    lagMonitor.tick(1001);
    expect(lagging).toHaveLength(1);
    expect(socket.lag.behind).toBe(true);
    lagMonitor.tick(1500);
    expect(lagging).toHaveLength(1);
    lagMonitor.onPong(socket, socket.sent[0]!, 2000);
    expect(socket.lag.behind).toBe(false);
    socket.write();
    lagMonitor.tick(2100);
    lagMonitor.tick(3200);
    expect(lagging).toHaveLength(2);
  });

  it('probes a reader that keeps up every other tick, a slower one every tick', () => {
    const quick = new FakeSocket();
    const slow = new FakeSocket();
    const { lagMonitor } = monitor([quick, slow], { maxLagMs: 1000 });
    const tick = 250;
    for (let now = 0; now < 20 * tick; now += tick) {
      quick.write();
      slow.write();
      const before = [quick.sent.length, slow.sent.length];
      lagMonitor.tick(now);
      // quick answers within 10 ms (a tenth of the limit is 100), slow after 150 ms.
      if (quick.sent.length > before[0]!) lagMonitor.onPong(quick, quick.sent.at(-1)!, now + 10);
      if (slow.sent.length > before[1]!) lagMonitor.onPong(slow, slow.sent.at(-1)!, now + 150);
    }
    expect(slow.sent).toHaveLength(20);
    expect(quick.sent).toHaveLength(10);
  });

  it('closes a quick reader that stalls within MAX_LAG_MS plus three ticks', () => {
    const socket = new FakeSocket();
    const maxLagMs = 1000;
    const tick = lagTickMs(maxLagMs);
    const { lagMonitor, lagging } = monitor([socket], { maxLagMs });
    let now = 0;
    // It answers at once, until the worst moment: just after a probe came back, so the next tick rests.
    for (; now < 4 * tick; now += tick) {
      socket.write();
      lagMonitor.tick(now);
      const last = socket.sent.at(-1);
      if (last && socket.lag.inFlight > 0) lagMonitor.onPong(socket, last, now + 1);
    }
    const stalledAt = now - tick + 1;
    while (lagging.length === 0) {
      socket.write();
      lagMonitor.tick(now);
      now += tick;
      expect(now, 'never closed').toBeLessThan(10 * maxLagMs);
    }
    const lagAtClose = now - tick - stalledAt;
    expect(lagAtClose).toBeGreaterThan(maxLagMs);
    expect(lagAtClose).toBeLessThanOrEqual(maxLagMs + 3 * tick);
  });

  it('keeps at most 16 probes in flight', () => {
    const socket = new FakeSocket();
    const { lagMonitor } = monitor([socket], { maxLagMs: 60_000 });
    for (let now = 0; now < 30 * 250; now += 250) {
      socket.write();
      lagMonitor.tick(now);
    }
    expect(socket.lag.inFlight).toBe(16);
  });

  it('marks the members of topics written to, for transports whose fan-out bypasses the connection', () => {
    const member = new FakeSocket();
    const other = new FakeSocket();
    const { lagMonitor } = monitor([member, other], { members: new Map([['j:BTC', [member]]]) });
    lagMonitor.noteTopicWrite('j:BTC');
    lagMonitor.tick(0);
    expect([member.sent.length, other.sent.length]).toEqual([1, 0]);
    lagMonitor.tick(100);
    expect(member.sent.length).toBe(1);
  });
});
