// Which pub/sub channels one connection holds in Redis, kept equal to what its callers want
// whatever order subscribes, unsubscribes, timeouts and reconnects happen in.
//
// Redis runs one connection's commands in order, and a command that timed out on our side still
// runs there later. So once Redis caught up, it holds a channel exactly when the last command sent
// for it was a SUBSCRIBE: the ledger records that (`sent`), not what was acknowledged. A channel
// nobody wants any more gets its UNSUBSCRIBE even when its SUBSCRIBE never answered (the timed-out
// SUBSCRIBE is unsubscribed), and a new caller of a channel whose SUBSCRIBE timed out sends one
// again and waits for that answer (it is adopted). Commands of one event-loop turn leave batched.
// Generic over the commands, so a sharded subscriber (SSUBSCRIBE) can keep one per shard.

export interface PubSubCommands {
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
  /** True when a command written now reaches Redis (one refused before sending changes nothing). */
  writable(): boolean;
  /** An UNSUBSCRIBE failed; the leftover goes with the connection at the latest. */
  unsubscribeFailed(error: unknown, channels: string[]): void;
}

interface Line<T> {
  value: T | undefined;
  /** The last command sent for this channel on the current connection was SUBSCRIBE. */
  sent: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Channels per SUBSCRIBE / UNSUBSCRIBE command. */
const CHUNK = 1000;

export class PubSubLedger<T> {
  private readonly lines = new Map<string, Line<T>>();
  private toSubscribe = new Map<string, Waiter[]>();
  /** Channels to UNSUBSCRIBE, with who waits for the answer. */
  private toUnsubscribe = new Map<string, Array<() => void>>();
  private scheduled = false;
  private heldCount = 0;
  private wantedCount = 0;

  constructor(private readonly commands: PubSubCommands) {}

  /** Channels that have a value (a listener). */
  get size(): number {
    return this.wantedCount;
  }

  /** Channels Redis holds for this connection once it has run every command sent. */
  get held(): number {
    return this.heldCount;
  }

  get(name: string): T | undefined {
    return this.lines.get(name)?.value;
  }

  names(): string[] {
    return [...this.lines.keys()].filter((name) => this.lines.get(name)!.value !== undefined);
  }

  /**
   * Sets the channel's value and resolves once Redis acknowledged a SUBSCRIBE sent after this
   * call. On failure (timeout, connection lost, refused) the previous value is restored, the
   * channel is reconciled, and the error is passed on.
   */
  want(name: string, value: T): Promise<void> {
    const line = this.line(name);
    const previous = line.value;
    this.setValue(line, value);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: unknown): void => {
        const current = this.lines.get(name);
        if (current?.value === value) {
          this.setValue(current, previous);
          if (previous === undefined) this.reconcileDropped(name, current);
        }
        reject(error);
      };
      this.settleUnsubscribe(name);
      const waiters = this.toSubscribe.get(name);
      if (waiters) waiters.push({ resolve, reject: fail });
      else this.toSubscribe.set(name, [{ resolve, reject: fail }]);
      this.schedule();
    });
  }

  /**
   * Forgets the channel's value at once; Redis is told unless nothing was ever sent for it.
   * Resolves once Redis answered that UNSUBSCRIBE (or it became moot); never rejects.
   */
  drop(name: string): Promise<void> {
    const line = this.lines.get(name);
    if (!line || line.value === undefined) return Promise.resolve();
    this.setValue(line, undefined);
    return this.reconcileDropped(name, line);
  }

  /** The connection went away: Redis holds nothing for it any more. Values stay, for `restore`. */
  lost(): void {
    for (const [name, line] of this.lines) {
      this.setSent(line, false);
      if (line.value === undefined) this.lines.delete(name);
    }
    for (const name of [...this.toUnsubscribe.keys()]) this.settleUnsubscribe(name);
  }

  /** SUBSCRIBEs every channel with a value again (after a reconnect); resolves when all are acknowledged. */
  async restore(): Promise<void> {
    const names = this.names();
    for (const name of names) this.setSent(this.lines.get(name)!, true);
    for (let first = 0; first < names.length; first += CHUNK) {
      await this.commands.subscribe(names.slice(first, first + CHUNK));
    }
  }

  clear(): void {
    this.lines.clear();
    this.toSubscribe = new Map();
    for (const name of [...this.toUnsubscribe.keys()]) this.settleUnsubscribe(name);
    this.heldCount = 0;
    this.wantedCount = 0;
  }

  private line(name: string): Line<T> {
    let line = this.lines.get(name);
    if (!line) this.lines.set(name, (line = { value: undefined, sent: false }));
    return line;
  }

  private reconcileDropped(name: string, line: Line<T>): Promise<void> {
    const waiters = this.toSubscribe.get(name);
    if (waiters) {
      // Dropped before its SUBSCRIBE left: nothing to send, and nothing to wait for.
      this.toSubscribe.delete(name);
      for (const waiter of waiters) waiter.resolve();
    }
    if (!line.sent) {
      if (line.value === undefined) this.lines.delete(name);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiting = this.toUnsubscribe.get(name);
      if (waiting) waiting.push(resolve);
      else this.toUnsubscribe.set(name, [resolve]);
      this.schedule();
    });
  }

  private settleUnsubscribe(name: string): void {
    const waiting = this.toUnsubscribe.get(name);
    if (!waiting) return;
    this.toUnsubscribe.delete(name);
    for (const resolve of waiting) resolve();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const subscribes = this.toSubscribe;
    const unsubscribeWaiters = this.toUnsubscribe;
    const unsubscribes = [...unsubscribeWaiters.keys()];
    this.toSubscribe = new Map();
    this.toUnsubscribe = new Map();
    const answered = (chunk: string[]) => () => {
      for (const name of chunk) for (const resolve of unsubscribeWaiters.get(name)!) resolve();
    };
    if (!this.commands.writable()) {
      const error = new Error('Redis subscriber connection is not connected');
      for (const waiters of subscribes.values()) for (const waiter of waiters) waiter.reject(error);
      // Unsubscribes are moot: a connection that is not up holds nothing (see lost()).
      for (const name of unsubscribes) this.forgetIfIdle(name);
      answered(unsubscribes)();
      return;
    }
    for (let first = 0; first < unsubscribes.length; first += CHUNK) {
      const chunk = unsubscribes.slice(first, first + CHUNK);
      for (const name of chunk) {
        const line = this.lines.get(name);
        if (line) this.setSent(line, false);
        this.forgetIfIdle(name);
      }
      this.commands
        .unsubscribe(chunk)
        .catch((error: unknown) => this.commands.unsubscribeFailed(error, chunk))
        .finally(answered(chunk));
    }
    const names = [...subscribes.keys()];
    for (let first = 0; first < names.length; first += CHUNK) {
      const chunk = names.slice(first, first + CHUNK);
      for (const name of chunk) this.setSent(this.line(name), true);
      this.commands.subscribe(chunk).then(
        () => {
          for (const name of chunk) for (const waiter of subscribes.get(name)!) waiter.resolve();
        },
        (error: unknown) => {
          for (const name of chunk) for (const waiter of subscribes.get(name)!) waiter.reject(error);
        },
      );
    }
  }

  private forgetIfIdle(name: string): void {
    const line = this.lines.get(name);
    if (line && line.value === undefined && !line.sent && !this.toSubscribe.has(name)) this.lines.delete(name);
  }

  private setValue(line: Line<T>, value: T | undefined): void {
    if ((line.value === undefined) !== (value === undefined)) this.wantedCount += value === undefined ? -1 : 1;
    line.value = value;
  }

  private setSent(line: Line<T>, sent: boolean): void {
    if (line.sent !== sent) this.heldCount += sent ? 1 : -1;
    line.sent = sent;
  }
}
