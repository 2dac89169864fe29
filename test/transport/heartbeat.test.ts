// The ws transport's heartbeat: the tick on its own (fake connections, a fake clock), and a real
// client reading a long replay slowly, which must not be dropped as silent on either transport
// while the server's ping waits behind the data (issue 9, finding 9).
import { describe, expect, it } from 'vitest';
import { Heartbeat, type Beating } from '../../src/transport/heartbeat.js';
import { postSignals, startTestNode, TestClient } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

class FakeConnection implements Beating {
  closed = false;
  lastHeardAt = 0;
  lastPingAt = 0;
  lastDrainedBytes = 0;
  hadBacklog = false;
  pings = 0;
  drained = 0;
  backlog = 0;
  drainedBytes(): number {
    return this.drained;
  }
  bufferedAmount(): number {
    return this.backlog;
  }
  ping(): void {
    this.pings++;
  }
}

describe('Heartbeat.tick', () => {
  const PERIOD_S = 4;
  const setup = () => {
    const connection = new FakeConnection();
    const dropped: FakeConnection[] = [];
    const heartbeat = new Heartbeat([connection], PERIOD_S, (c) => dropped.push(c));
    return { connection, dropped, heartbeat };
  };

  it('pings a client silent for a period and drops one silent for two', () => {
    const { connection, dropped, heartbeat } = setup();
    heartbeat.tick(3999);
    expect(connection.pings).toBe(0);
    heartbeat.tick(4000);
    expect(connection.pings).toBe(1);
    heartbeat.tick(7999);
    expect(dropped).toEqual([]);
    heartbeat.tick(8000);
    expect(dropped).toEqual([connection]);
  });

  it('keeps a client whose send backlog drains: it is reading, its pong waits behind the data', () => {
    const { connection, dropped, heartbeat } = setup();
    connection.backlog = 50_000_000;
    for (let now = 1000; now <= 60_000; now += 1000) {
      connection.drained += 100_000;
      connection.backlog -= 100_000;
      heartbeat.tick(now);
    }
    expect(dropped).toEqual([]);
  });

  it('drops a client whose backlog does not move', () => {
    const { connection, dropped, heartbeat } = setup();
    connection.backlog = 50_000_000;
    for (let now = 1000; now <= 8000; now += 1000) heartbeat.tick(now);
    expect(dropped).toEqual([connection]);
  });

  it('does not count bytes the kernel took while nothing waited (a dead client takes them too)', () => {
    const { connection, dropped, heartbeat } = setup();
    for (let now = 1000; now <= 8000; now += 1000) {
      connection.drained += 20; // the pings themselves
      heartbeat.tick(now);
    }
    expect(dropped).toEqual([connection]);
  });
});

describe('a client reading a long replay slowly', () => {
  const HEARTBEAT_SECONDS = 4;
  const CHANNELS = ['SLOWREAD.A', 'SLOWREAD.B', 'SLOWREAD.C'];
  // 32 x 250-char meta values: about 9 KB an entry, 27 MB of replay for the three channels.
  const meta = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'.repeat(250)]));

  it.concurrent.each(['ws', 'uws'] as const)('is not dropped as silent on %s while its backlog drains', async (transport) => {
    const node = await startTestNode({
      TRANSPORT: transport,
      HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
      SEND_BUFFER_BYTES: String(512 * 1024 * 1024),
      SEND_BUDGET_BYTES: String(512 * 1024 * 1024),
      MAX_BODY_BYTES: String(16 * 1024 * 1024),
    });
    try {
      for (const channel of CHANNELS) {
        const answer = await postSignals(node.baseUrl, Array.from({ length: 1000 }, () => ({ symbol: channel, side: 'BUY', strength: 0.5, meta })));
        expect(answer.status).toBe(200);
      }
      // The client answers pings (autoPong), but only once it has read up to them; it sends nothing else.
      const client = await TestClient.connect(node.wsUrl);
      const raw = (client.socket as unknown as { _socket: import('node:net').Socket })._socket;
      let slow = true;
      raw.on('data', () => slow && raw.pause());
      const pace = setInterval(() => raw.resume(), 50); // one read (up to 64 KiB) per 50 ms: about 1.3 MB/s
      // Conflated: a reader far behind skips ahead (the lag monitor's choice) instead of being
      // closed with 4008, so only the heartbeat could drop it.
      for (const channel of CHANNELS) client.send({ op: 'subscribe', channel, last: 1000, conflate: 1000 });
      // Slowly for well over twice the heartbeat: with the ping stuck behind megabytes, a server that
      // counts only what it hears drops the client (1006) after 8 s.
      await delay(2.75 * HEARTBEAT_SECONDS * 1000);
      expect(client.closeCode, 'closed while reading its replay').toBeUndefined();
      const received = CHANNELS.reduce((sum, channel) => sum + client.entries(channel).length, 0);
      expect(received, 'still reading the replay (the test would prove nothing otherwise)').toBeLessThan(3000);
      slow = false;
      clearInterval(pace);
      raw.resume();
      await waitFor(() => client.closeCode !== undefined || client.ofType('live').length === CHANNELS.length, 20_000, 'the whole replay');
      for (const channel of CHANNELS) expect(client.entries(channel)).toHaveLength(1000);
      expect(client.closeCode).toBeUndefined();
      expect((await node.metrics.heartbeatTimeouts.get()).values[0]?.value ?? 0).toBe(0);
      await client.close();
    } finally {
      await node.stop();
    }
  }, 60_000);
});
