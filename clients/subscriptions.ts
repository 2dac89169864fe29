import type { ClientFrame, EntriesFrame, EntryFrame, ErrorFrame, LiveFrame, ResetFrame, SubscribedFrame } from '../src/protocol/frames.js';
import type { Entry } from '../src/signal/schema.js';
import { SigcastClientError } from './events.js';
import { PositionTracker, type Position, type StartPosition } from './position-tracker.js';
import type { OutgoingFrame } from './wire.js';

/** An entry as the app receives it; `replaced` is set on a conflated feed: how many newer-than-last entries this one stands for. */
export type DeliveredEntry = Entry & { replaced?: number };

export interface SubscribeOptions extends StartPosition {
  /**
   * Ask for a conflated feed: after the replay, at most one entry (the newest) per `conflate` ms
   * (10..60000), each carrying `replaced`. Sent only when set; a server without conflation refuses
   * the subscribe with an error frame (`onError`).
   */
  conflate?: number;
  /** The position could not be honoured, or the channel's history was lost: see docs/protocol.md. */
  onReset?: (reset: ResetFrame) => void;
  /** The replay is done; entries from now on are live. Called again after every re-subscribe. */
  onLive?: (live: LiveFrame) => void;
  /** The server refused the subscription (e.g. invalid_channel); it is then dropped. */
  onError?: (error: SigcastClientError) => void;
}

interface Subscription {
  readonly channel: string;
  readonly tracker: PositionTracker;
  readonly onEntry: (entry: DeliveredEntry) => void;
  readonly options: SubscribeOptions;
  /** Id of the subscribe frame sent on the current socket; frames of the channel count only after its `subscribed`. */
  requestId: string | undefined;
  joined: boolean;
}

/** What became of a subscribe that the server answered with an error. */
export type SubscribeFailure = { retry: true; channel: string } | { retry: false; error: SigcastClientError };

const TRANSIENT_ERRORS = new Set(['unavailable', 'shutting_down', 'internal']);

/**
 * The client's subscriptions and the routing of their server frames. Frames of a channel are
 * ignored until the `subscribed` answering the latest subscribe frame, so that leftovers of an
 * earlier subscription to the same channel never reach the new one. No I/O: callers send frames.
 */
export class Subscriptions {
  private readonly byChannel = new Map<string, Subscription>();
  private nextId = 1;
  /** The server's welcome listed `batch`: subscribes ask for `entries` frames (an older server would refuse the field). */
  batch = false;

  /** `callApp` runs an app callback, so that a callback that throws cannot break the routing. */
  constructor(private readonly callApp: (what: string, fn: () => void) => void) {}

  /** Adds a subscription; returns its remover, which gives the unsubscribe frame to send if the server knows of it. */
  add(channel: string, options: SubscribeOptions, onEntry: (entry: DeliveredEntry) => void): () => ClientFrame | undefined {
    if (this.byChannel.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const subscription: Subscription = { channel, tracker: new PositionTracker(options), onEntry, options, requestId: undefined, joined: false };
    this.byChannel.set(channel, subscription);
    return () => {
      if (this.byChannel.get(channel) !== subscription) return undefined;
      this.byChannel.delete(channel);
      return subscription.requestId === undefined ? undefined : { op: 'unsubscribe', channel };
    };
  }

  position(channel: string): Position | undefined {
    return this.byChannel.get(channel)?.tracker.position;
  }

  /** Subscribe frames for every subscription, each from its current position (on a new connection). */
  subscribeAll(): OutgoingFrame[] {
    return [...this.byChannel.values()].map((subscription) => this.subscribeFrame(subscription));
  }

  /** The subscribe frame of a channel that has none on this socket yet (new, or after a transient failure). */
  pendingFrame(channel: string): OutgoingFrame | undefined {
    const subscription = this.byChannel.get(channel);
    return subscription && subscription.requestId === undefined ? this.subscribeFrame(subscription) : undefined;
  }

  /** The socket closed: every subscription has to be sent again. */
  disconnected(): void {
    for (const subscription of this.byChannel.values()) {
      subscription.requestId = undefined;
      subscription.joined = false;
    }
  }

  onSubscribed(frame: SubscribedFrame): void {
    const subscription = this.byChannel.get(frame.channel);
    if (!subscription || subscription.requestId !== frame.id) return;
    subscription.joined = true;
    subscription.tracker.onSubscribed(frame);
  }

  /** Returns true when the reset belonged to a current subscription (so the app was told). */
  onReset(frame: ResetFrame): boolean {
    const subscription = this.joined(frame.channel);
    if (!subscription) return false;
    subscription.tracker.onReset(frame);
    this.callApp('reset', () => subscription.options.onReset?.(frame));
    return true;
  }

  onEntry(frame: EntryFrame): void {
    const subscription = this.joined(frame.channel);
    if (subscription?.tracker.accept(frame)) this.callApp('entry', () => subscription.onEntry(frame));
  }

  /** An `entries` frame: each entry in turn, exactly as if it had come in an `entry` frame of its own. */
  onEntries(frame: EntriesFrame): void {
    for (const entry of frame.entries) this.onEntry({ type: 'entry', ...entry });
  }

  onLive(frame: LiveFrame): void {
    const subscription = this.joined(frame.channel);
    if (subscription) this.callApp('live', () => subscription.options.onLive?.(frame));
  }

  /** An error frame answering one of our subscribes (matched by id: an invalid subscribe frame has no channel). */
  onError(frame: ErrorFrame): SubscribeFailure | undefined {
    const subscription = [...this.byChannel.values()].find((candidate) => frame.id !== undefined && candidate.requestId === frame.id);
    if (!subscription) return undefined;
    subscription.requestId = undefined;
    if (TRANSIENT_ERRORS.has(frame.code)) return { retry: true, channel: subscription.channel };
    const error = new SigcastClientError(frame.code, frame.message, frame.details, subscription.channel);
    this.byChannel.delete(subscription.channel);
    this.callApp('error', () => subscription.options.onError?.(error));
    return { retry: false, error };
  }

  private subscribeFrame(subscription: Subscription): OutgoingFrame {
    subscription.requestId = `s${this.nextId++}`;
    subscription.joined = false;
    const { conflate } = subscription.options;
    // `batch`: the entries of one publish may come as one `entries` frame (onEntries unpacks it).
    const frame = { op: 'subscribe' as const, id: subscription.requestId, channel: subscription.channel, ...subscription.tracker.request(), ...(this.batch ? { batch: true } : {}) };
    return conflate === undefined ? frame : { ...frame, conflate };
  }

  private joined(channel: string): Subscription | undefined {
    const subscription = this.byChannel.get(channel);
    return subscription?.joined ? subscription : undefined;
  }
}
