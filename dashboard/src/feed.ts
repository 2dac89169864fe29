// The dashboard's subscriptions on the project's own client: the watched channels, the replay
// size, the token and the conflation interval. It keeps each channel's position itself, so a
// subscription that is replaced (conflation on or off) or refused resumes with no gap.
import { connect, type DeliveredEntry, type SigcastClient, type SigcastClientError } from '../../clients/sigcast-client.js';

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting';

export interface ConnectionState {
  status: ConnectionStatus;
  node?: string;
  /** Connections made after the first one. */
  reconnects: number;
  retryInMs?: number;
  lastClose?: string;
}

export interface ConflationState {
  /** The interval asked for (0: off). */
  requestedMs: number;
  /** Set when the server refused it; the channels then run unconflated. */
  refusal?: string;
}

export interface FeedListener {
  /** `live` is false for the replay that follows each (re)subscribe. */
  entry(entry: DeliveredEntry, live: boolean): void;
  connection(state: ConnectionState): void;
  /** Something the user should read: a server error, a reset, a refused channel. */
  problem(message: string): void;
  channels(channels: readonly string[]): void;
  conflation(state: ConflationState): void;
}

interface Watched {
  unsubscribe: () => void;
  live: boolean;
  position?: { since: number; epoch: string };
}

export class Feed {
  private readonly client: SigcastClient;
  private readonly watched = new Map<string, Watched>();
  private readonly state: ConnectionState = { status: 'connecting', reconnects: 0 };
  private conflation: ConflationState = { requestedMs: 0 };
  private token: string | undefined;
  private opens = 0;

  constructor(
    url: string,
    private readonly listener: FeedListener,
    private replayLast = 100,
  ) {
    this.client = connect(url, { token: () => this.token });
    this.client.on('open', (welcome) => {
      this.opens += 1;
      this.update({ status: 'live', node: welcome.node, reconnects: this.opens - 1, retryInMs: undefined });
    });
    this.client.on('close', ({ code, reason, reconnectInMs }) => {
      // The client resumes each channel with a replay of what it missed: not live until `live` again.
      for (const watched of this.watched.values()) watched.live = false;
      this.update({ status: 'reconnecting', retryInMs: reconnectInMs, lastClose: `${code}${reason ? ` ${reason}` : ''}` });
    });
    this.client.on('error', (error) => {
      // Socket errors are followed by a close, which the connection state shows; channel errors go to their subscription.
      if (error.code !== 'socket_error' && error.channel === undefined) this.listener.problem(`${error.code}: ${error.message}`);
    });
    this.client.on('reset', (reset) => this.listener.problem(`${reset.channel}: reset (${reset.reason}): the history continues at seq ${reset.fromSeq}`));
  }

  get channels(): string[] {
    return [...this.watched.keys()];
  }

  /** Watches exactly these channels: new ones start with the last `replayLast` entries. */
  watch(channels: readonly string[]): void {
    for (const channel of [...this.watched.keys()]) if (!channels.includes(channel)) this.drop(channel);
    for (const channel of channels) if (!this.watched.has(channel)) this.subscribe(channel, undefined);
    this.listener.channels(this.channels);
  }

  setReplay(last: number): void {
    this.replayLast = last;
  }

  /** Uses this token from the next connection on, and reconnects now. */
  setToken(token: string): void {
    this.token = token || undefined;
    this.client.reconnect();
  }

  /** Re-subscribes every channel, from its position, with this interval (0: every entry). */
  setConflation(ms: number): void {
    this.conflation = { requestedMs: ms };
    this.listener.conflation(this.conflation);
    for (const [channel, watched] of this.watched) {
      watched.unsubscribe();
      this.subscribe(channel, watched.position);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private subscribe(channel: string, position: Watched['position']): void {
    const conflate = this.conflation.refusal === undefined && this.conflation.requestedMs > 0 ? this.conflation.requestedMs : undefined;
    const watched: Watched = { unsubscribe: () => {}, live: false, ...(position ? { position } : {}) };
    this.watched.set(channel, watched);
    watched.unsubscribe = this.client.subscribe(
      channel,
      {
        ...(position ?? { last: this.replayLast }),
        ...(conflate !== undefined ? { conflate } : {}),
        onLive: (live) => {
          watched.live = true;
          watched.position ??= { since: live.seq, epoch: live.epoch };
        },
        onReset: () => (watched.live = false),
        onError: (error) => this.refused(channel, watched, error, conflate),
      },
      (entry) => {
        watched.position = { since: entry.seq, epoch: entry.epoch };
        this.listener.entry(entry, watched.live);
      },
    );
  }

  private refused(channel: string, watched: Watched, error: SigcastClientError, conflate: number | undefined): void {
    if (this.watched.get(channel) !== watched) return;
    if (conflate !== undefined) {
      // A server without conflation refuses the whole subscribe: say so, and carry on with every entry.
      const refusal = `${error.code}: ${error.message}`;
      if (this.conflation.refusal === undefined) {
        this.conflation = { requestedMs: this.conflation.requestedMs, refusal };
        this.listener.conflation(this.conflation);
        this.listener.problem(`${channel}: the server refused conflate=${conflate} ms, showing every signal instead. ${refusal}`);
      }
      return this.subscribe(channel, watched.position);
    }
    this.watched.delete(channel);
    this.listener.problem(`${channel}: refused by the server: ${error.code}: ${error.message}`);
    this.listener.channels(this.channels);
  }

  private drop(channel: string): void {
    this.watched.get(channel)?.unsubscribe();
    this.watched.delete(channel);
  }

  private update(change: Partial<ConnectionState>): void {
    Object.assign(this.state, change);
    this.listener.connection({ ...this.state });
  }
}
