// Coalesces the appends RedisBroker is asked for in one event-loop turn into as few script calls
// as possible (redis-lua.ts appendLua takes several parts): one per group of requests that may
// share a call (all of them on one Redis; one channel's on a cluster), each at most MAX_SIGNALS_PER_CALL
// signals, so that one call never holds Redis for long. Ten publishes of one signal each then
// cost Redis one script run and the node one command, one reply and one promise, instead of ten.
import type { ChannelKeys } from './redis-keys.js';

export const MAX_SIGNALS_PER_CALL = 5000;
export const MAX_PARTS_PER_CALL = 256;

export interface AppendRequest {
  keys: ChannelKeys;
  /** Its part of the call's ARGV (redis-scripts.ts appendPart). */
  part: string[];
  signalCount: number;
  /** Requests of one group may share a call (one value on one Redis; the channel on a cluster). */
  group: string;
}

/** A request's share of the call it went out in: its part's reply, and the call's time (the entries' ts). */
export interface AppendOutcome {
  reply: unknown;
  nowMs: number;
}

/** Sends one call: the keys of its parts (four each), and ARGV from the time and the parts; resolves with one reply per part. */
export type SendAppendCall = (keys: string[], nowMs: number, parts: readonly string[][]) => Promise<unknown[]>;

interface Queued {
  request: AppendRequest;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

export class AppendBatcher {
  private queued: Queued[] = [];
  private scheduled = false;

  constructor(private readonly send: SendAppendCall) {}

  /** Queued until the end of the current tick; resolves with this request's share of its call. */
  add(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queued.push({ request, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After every promise continuation of this turn: the appends they make join this flush.
      process.nextTick(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = [];
    // The open call of each group, and how many signals it holds.
    const open = new Map<string, { items: Queued[]; signals: number }>();
    const calls: Queued[][] = [];
    for (const item of queued) {
      const { group, signalCount } = item.request;
      let call = open.get(group);
      if (!call || call.items.length >= MAX_PARTS_PER_CALL || call.signals + signalCount > MAX_SIGNALS_PER_CALL) {
        call = { items: [], signals: 0 };
        open.set(group, call);
        calls.push(call.items);
      }
      call.items.push(item);
      call.signals += signalCount;
    }
    const nowMs = Date.now();
    for (const call of calls) void this.sendCall(call, nowMs);
  }

  private async sendCall(call: Queued[], nowMs: number): Promise<void> {
    const keys: string[] = [];
    for (const { request } of call) keys.push(request.keys.log, request.keys.meta, request.keys.ids, request.keys.live);
    try {
      const replies = await this.send(keys, nowMs, call.map((item) => item.request.part));
      if (replies.length !== call.length) throw new Error('unexpected reply from the append script');
      call.forEach((item, index) => item.resolve({ reply: replies[index], nowMs }));
    } catch (error) {
      for (const item of call) item.reject(error);
    }
  }
}
