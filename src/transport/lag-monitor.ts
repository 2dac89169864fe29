// Measures how far each socket's reader is behind what the server wrote to it, and acts when it
// is further behind than MAX_LAG_MS. A probe is a WebSocket ping carrying an id, written behind
// everything already queued for the socket (user-space and kernel buffers alike): its pong comes
// back once the client has read all of that, so the round trip is the age of the oldest frame the
// client had not read when the probe left. Both transports queue a ping behind buffered data and
// every WebSocket client answers pings by itself, so this reads the same on uws and ws, where
// bufferedAmount would miss the kernel's buffers (megabytes on loopback).
//
// Probes go only to sockets written to since their last probe, once the client asked for something
// (a socket that never sent a frame only got its welcome: its silence is the heartbeat's business,
// as is an idle socket's), one per tick, several in flight: when the oldest in flight is older than
// MAX_LAG_MS the reader has not reached it, and the one before it was answered, so the lag at that
// moment is at most MAX_LAG_MS plus two ticks. A socket that answered its last probe within a
// tenth of MAX_LAG_MS is probed every other tick (each probe is a write of its own: that halves
// them for the readers that keep up), which makes it at most MAX_LAG_MS plus three ticks, 1.75 x
// MAX_LAG_MS. The pongs of a reader that keeps up are also what keeps it from ever looking silent
// to the heartbeat while it reads.

export interface Probed {
  readonly closed: boolean;
  readonly lag: LagProbes;
  /** Writes a ping carrying `payload` behind everything written to the socket so far. */
  probe(payload: Uint8Array): void;
}

export interface LagMonitorOptions<C> {
  maxLagMs: number;
  /** The reader is more than maxLagMs behind: true when the socket skipped ahead and stays open. */
  onLagging(connection: C, lagMs: number): boolean;
  /** Each measured round trip, in ms. */
  observe?: (lagMs: number) => void;
}

/** Probes in flight per socket; a socket with this many unanswered gets no more until some are. */
const MAX_IN_FLIGHT = 16;
const PROBE_BYTES = 4;

/**
 * How often sockets are probed and checked: a quarter of the limit, within 25..500 ms. A reader
 * is then closed at most 1.5 x MAX_LAG_MS behind; each probe is a write of its own (a syscall per
 * socket per tick), so ticking faster costs every busy socket more than it gains.
 */
export function lagTickMs(maxLagMs: number): number {
  return Math.min(500, Math.max(25, Math.floor(maxLagMs / 4)));
}

/** One socket's probes in flight, oldest first. */
export class LagProbes {
  /** Written to since its last probe. */
  written = false;
  /** The client sent a frame: from then on, what it is sent is watched. */
  watched = false;
  /** Known to be more than the limit behind (and skipping ahead) until every probe in flight is answered. */
  behind = false;
  /** The round trip of the last probe answered (ms); undefined before the first. */
  lastRoundTrip: number | undefined;
  /** A quick reader skipped the last tick's probe: the next one is sent. */
  rested = false;
  private readonly ids: number[] = [];
  private readonly sentAt: number[] = [];

  get inFlight(): number {
    return this.ids.length;
  }

  /** How long the oldest unanswered probe has been out (0 with none). */
  oldestAge(now: number): number {
    const first = this.sentAt[0];
    return first === undefined ? 0 : now - first;
  }

  /** Records a probe sent now; returns its payload. */
  send(now: number): Uint8Array {
    const id = (Math.random() * 0x1_0000_0000) >>> 0;
    this.ids.push(id);
    this.sentAt.push(now);
    this.written = false;
    const payload = new Uint8Array(PROBE_BYTES);
    new DataView(payload.buffer).setUint32(0, id);
    return payload;
  }

  /**
   * A pong: when it answers a probe in flight, that probe and every older one are done (a client
   * may answer only the newest of several pings). Returns the answered probe's round trip, or
   * undefined for a pong of no probe of ours (a heartbeat pong, an unsolicited one).
   */
  answer(payload: Uint8Array, now: number): number | undefined {
    if (payload.byteLength !== PROBE_BYTES) return undefined;
    const id = new DataView(payload.buffer, payload.byteOffset, PROBE_BYTES).getUint32(0);
    const index = this.ids.indexOf(id);
    if (index < 0) return undefined;
    const roundTrip = now - this.sentAt[index]!;
    this.lastRoundTrip = roundTrip;
    this.ids.splice(0, index + 1);
    this.sentAt.splice(0, index + 1);
    if (this.ids.length === 0) this.behind = false;
    return roundTrip;
  }
}

export class LagMonitor<C extends Probed> {
  private timer: NodeJS.Timeout | undefined;
  private readonly activeTopics = new Set<string>();
  readonly tickMs: number;
  /** A reader whose last probe came back within this (ms) is probed every other tick. */
  private readonly quickMs: number;

  /**
   * @param members the sockets of a fan-out topic, for a transport whose topic writes do not pass
   * through its connections (uWS): topics written to are noted, their members marked at the tick.
   */
  constructor(
    private readonly connections: Iterable<C>,
    private readonly options: LagMonitorOptions<C>,
    private readonly members?: (topic: string) => Iterable<C> | undefined,
  ) {
    this.tickMs = lagTickMs(options.maxLagMs);
    this.quickMs = options.maxLagMs / 10;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(Date.now()), this.tickMs);
    this.timer.unref();
  }

  /** A fan-out topic was written to (for transports that gave `members`). */
  noteTopicWrite(topic: string): void {
    this.activeTopics.add(topic);
  }

  onPong(connection: C, payload: Uint8Array, now = Date.now()): void {
    const roundTrip = connection.lag.answer(payload, now);
    if (roundTrip !== undefined) this.options.observe?.(roundTrip);
  }

  /** Probes the sockets written to, acts on the lagging ones; returns how many were lagging. */
  tick(now: number): number {
    if (this.members) {
      for (const topic of this.activeTopics) for (const connection of this.members(topic) ?? []) connection.lag.written = true;
      this.activeTopics.clear();
    }
    const lagging: Array<[C, number]> = [];
    for (const connection of this.connections) {
      if (connection.closed) continue;
      const { lag } = connection;
      const age = lag.oldestAge(now);
      if (age > this.options.maxLagMs && !lag.behind) lagging.push([connection, age]);
      else if (lag.written && lag.watched && lag.inFlight < MAX_IN_FLIGHT) {
        if (lag.inFlight === 0 && !lag.rested && lag.lastRoundTrip !== undefined && lag.lastRoundTrip <= this.quickMs) {
          lag.rested = true;
          continue;
        }
        lag.rested = false;
        connection.probe(lag.send(now));
      }
    }
    // Acted on after the loop: closing removes a connection from the set being iterated.
    for (const [connection, age] of lagging) {
      if (!connection.closed && this.options.onLagging(connection, age)) connection.lag.behind = true;
    }
    return lagging.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
