/**
 * One small interface that every system's client implements, so the load generator (subscribers,
 * publishers, completeness and latency accounting) is the same code for sigcast and every peer.
 */

/** What the load generator publishes: a channel, the publisher's own counter and a send time. */
export interface BenchSignal {
  channel: string;
  /** The publisher's per-channel counter, 1, 2, 3... (peers have no server seq; see EntryEvent.seq). */
  n: number;
  /** performance.timeOrigin + performance.now() at send, in ms. */
  sent: number;
}

export interface EntryEvent {
  channel: string;
  /** sigcast: the server's seq; peers: the publisher's counter (one publisher per channel). */
  seq: number;
  sent: number;
  /** Delivered as part of a replay (not live), so its latency is not an end-to-end latency. */
  replay: boolean;
}

export interface AckedEntry {
  channel: string;
  seq: number;
}

export interface SubscribeOptions {
  /** Replay the newest `last` entries first (systems with history only). */
  last?: number;
}

export interface ClientEvents {
  onEntry(entry: EntryEvent): void;
  /** The server closed the connection (code as sent; 1006 when the TCP connection just dropped). */
  onClose?(code: number, reason: string): void;
  /** The server announced a gap it cannot fill (sigcast `reset`): counted apart from silent loss. */
  onReset?(channel: string, skipped: number): void;
  /** The client reconnected and resumed (sigcast after a slow-consumer close). */
  onResume?(): void;
  /** The server sent an error the client cannot attach to a request. */
  onError?(message: string): void;
}

export interface BenchClient {
  connect(): Promise<void>;
  /** Resolves when the subscription is in place (and, with `last`, when the replay is announced). */
  subscribe(channel: string, options?: SubscribeOptions): Promise<void>;
  /** Resolves once the server acknowledged every signal (in input order). */
  publish(signals: readonly BenchSignal[]): Promise<AckedEntry[]>;
  /** Stop / restart reading from the socket (simulates a slow consumer). */
  pause?(): void;
  resume?(): void;
  close(): Promise<void>;
}

export interface ClientOptions {
  /** Base URLs of the node this client talks to. */
  http: string;
  ws: string;
  encoding: 'json' | 'msgpack';
  publishVia: 'ws' | 'http';
  /** This client only publishes (an HTTP publisher then opens no socket). */
  publisherOnly?: boolean;
  /** Reconnect and resume from the last seq after a server close (sigcast only). */
  resume: boolean;
  /** Subscribe with `batch` (sigcast only). */
  batch?: boolean;
}

/** The signal object every system carries, with the same fields and about the same size. */
export function signalJson(signal: BenchSignal): string {
  return (
    `{"symbol":"${signal.channel}","side":"BUY","strength":0.75,"price":43125.5,"strategy":"bench",` +
    `"meta":{"sent":${signal.sent},"n":${signal.n}}}`
  );
}
