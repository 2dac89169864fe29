import { pack, unpack } from 'msgpackr';
import type { AckedEntry, BenchClient, BenchSignal, ClientEvents, ClientOptions, SubscribeOptions } from './adapter.js';
import { signalJson } from './adapter.js';
import { createPoster } from './http-post.js';
import { EntryReader } from './sigcast-entry.js';
import { openWs, Pending, type WsConn } from './ws-conn.js';

/** The sigcast frames this client reads (src/protocol/frames.ts is the authority). */
interface ServerFrame {
  type: string;
  id?: number | string;
  channel?: string;
  seq?: number;
  epoch?: string;
  fromSeq?: number;
  code?: string;
  message?: string;
  signal?: { meta?: { sent?: number } };
  /** `ack`: where each signal was stored; `entries`: the entries of a batch. */
  entries?: Array<{ channel: string; seq: number; epoch?: string; signal?: { meta?: { sent?: number } } }>;
}

const SLOW_CONSUMER_CLOSE = 4008;

/**
 * sigcast over its /v1 protocol. Subscriptions resolve on `live`; with `resume`, a connection
 * closed by the server (slow consumer, shutdown) reconnects and resumes from its last seq.
 */
export function sigcastClient(options: ClientOptions, events: ClientEvents): BenchClient {
  const binary = options.encoding === 'msgpack';
  const url = `${options.ws}/v1/ws?encoding=${options.encoding}`;
  const acks = new Pending<AckedEntry[]>();
  const live = new Map<string, () => void>();
  const positions = new Map<string, { seq: number; epoch: string; live: boolean }>();
  const poster = options.publishVia === 'http' ? createPoster(options.http, 16) : undefined;
  let conn: WsConn | undefined;
  let closing = false;

  const encode = (frame: object): string | Uint8Array => (binary ? pack(frame) : JSON.stringify(frame));
  const decode = (data: Buffer): ServerFrame => (binary ? (unpack(data) as ServerFrame) : (JSON.parse(data.toString('utf8')) as ServerFrame));

  const onEntry = (channel: string, seq: number, sent: number, epoch: () => string): void => {
    const position = positions.get(channel);
    if (position) {
      position.seq = seq;
      // A live-only subscription to an empty channel learns its epoch from the first entry.
      if (!position.epoch) position.epoch = epoch();
    }
    events.onEntry({ channel, seq, sent, replay: !(position?.live ?? false) });
  };

  const entries = new EntryReader();
  const epochOfLast = (): string => entries.epoch(binary);
  const onBatched = (seq: number, sent: number): void => onEntry(entries.channel, seq, sent, epochOfLast);
  const onMessage = (data: Buffer): void => {
    // Entry frames (nearly all traffic) are read from their bytes, JSON or msgpack; the rest are decoded.
    if (entries.read(data, binary)) {
      onEntry(entries.channel, entries.seq, entries.sent, epochOfLast);
      return;
    }
    if (entries.readEntries(data, binary, onBatched)) return;
    const frame = decode(data);
    const channel = frame.channel ?? '';
    switch (frame.type) {
      case 'entry':
        onEntry(channel, frame.seq ?? 0, frame.signal?.meta?.sent ?? 0, () => frame.epoch ?? '');
        break;
      case 'entries':
        for (const entry of frame.entries ?? []) onEntry(channel, entry.seq, entry.signal?.meta?.sent ?? 0, () => entry.epoch ?? '');
        break;
      case 'subscribed':
        positions.set(channel, { seq: positions.get(channel)?.seq ?? 0, epoch: frame.epoch ?? '', live: false });
        break;
      case 'reset': {
        const position = positions.get(channel);
        if (position && frame.epoch) position.epoch = frame.epoch;
        events.onReset?.(channel, frame.fromSeq ?? 0);
        break;
      }
      case 'live': {
        const position = positions.get(channel);
        if (position) {
          position.live = true;
          if (frame.epoch) position.epoch = frame.epoch;
        }
        live.get(channel)?.();
        live.delete(channel);
        break;
      }
      case 'ack':
        acks.resolve(Number(frame.id), (frame.entries ?? []).map((entry) => ({ channel: entry.channel, seq: entry.seq })));
        break;
      case 'error':
        if (frame.id !== undefined) acks.reject(Number(frame.id), new Error(`${frame.code}: ${frame.message}`));
        else events.onError?.(`${frame.code}: ${frame.message}${frame.channel ? ` (${frame.channel})` : ''}`);
        break;
    }
  };

  const open = async (): Promise<void> => {
    conn = await openWs(url, onMessage, (code, reason) => {
      events.onClose?.(code, reason);
      acks.rejectAll(new Error(`closed ${code}`));
      if (!closing && options.resume && (code === SLOW_CONSUMER_CLOSE || code === 1001 || code === 1006)) void resume();
    });
  };

  const sendSubscribe = (channel: string, extra: object): Promise<void> => {
    const done = new Promise<void>((resolve) => live.set(channel, resolve));
    conn?.send(encode({ op: 'subscribe', channel, ...extra, ...(options.batch ? { batch: true } : {}) }));
    return done;
  };

  // Resume every channel after the last seq seen, in the epoch it was seen in (bounded retries).
  const resume = async (): Promise<void> => {
    for (let attempt = 0; attempt < 20 && !closing; attempt++) {
      try {
        await open();
        await Promise.all(
          [...positions].map(([channel, position]) => {
            position.live = false;
            return sendSubscribe(channel, { since: position.seq, epoch: position.epoch });
          }),
        );
        events.onResume?.();
        return;
      } catch (error) {
        events.onError?.(`resume attempt ${attempt + 1}: ${error instanceof Error ? error.message : String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  };

  return {
    async connect() {
      // An HTTP publisher needs no socket.
      if (!(options.publisherOnly && poster)) await open();
    },
    subscribe(channel: string, subscribeOptions: SubscribeOptions = {}) {
      return sendSubscribe(channel, subscribeOptions.last ? { last: subscribeOptions.last } : {});
    },
    async publish(signals: readonly BenchSignal[]) {
      const body = `[${signals.map(signalJson).join(',')}]`;
      if (poster) {
        const answer = await poster.post('/v1/signals', body, { 'content-type': 'application/json' });
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
        const parsed = JSON.parse(answer.body) as { entries: AckedEntry[] };
        return parsed.entries;
      }
      const { id, promise } = acks.add();
      // The body is built as text once; msgpack connections send the parsed form.
      conn?.send(binary ? pack({ op: 'publish', id, signals: JSON.parse(body) as unknown }) : `{"op":"publish","id":${id},"signals":${body}}`);
      return promise;
    },
    pause: () => conn?.pause(),
    resume: () => conn?.resume(),
    async close() {
      closing = true;
      poster?.close();
      await conn?.close();
    },
  };
}
