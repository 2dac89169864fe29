import type { AckedEntry, BenchClient, BenchSignal, ClientEvents, ClientOptions, SubscribeOptions } from './adapter.js';
import { signalJson } from './adapter.js';
import { KEY, numberAfter, stringAfter } from './fields.js';
import { createPoster } from './http-post.js';
import { openWs, Pending, type WsConn } from './ws-conn.js';

interface Frame {
  type: string;
  id?: number;
  channel?: string;
  signal?: { meta?: { sent?: number; n?: number } };
}

/** Client of the ws + ioredis baseline. It has no seqs: the publisher's counter stands in. */
export function wsIoredisClient(options: ClientOptions, events: ClientEvents): BenchClient {
  const acks = new Pending<undefined>();
  const subscribed = new Map<string, () => void>();
  const replaying = new Set<string>();
  const poster = options.publishVia === 'http' ? createPoster(options.http, 16) : undefined;
  let conn: WsConn | undefined;

  const onMessage = (data: Buffer): void => {
    if (data.indexOf(KEY.typeEntry) >= 0) {
      const channel = stringAfter(data, KEY.channel);
      events.onEntry({ channel, seq: numberAfter(data, KEY.n), sent: numberAfter(data, KEY.sent), replay: replaying.has(channel) });
      return;
    }
    const frame = JSON.parse(data.toString('utf8')) as Frame;
    const channel = frame.channel ?? '';
    if (frame.type === 'entry') {
      const meta = frame.signal?.meta;
      events.onEntry({ channel, seq: meta?.n ?? 0, sent: meta?.sent ?? 0, replay: replaying.has(channel) });
    } else if (frame.type === 'subscribed') {
      replaying.delete(channel);
      subscribed.get(channel)?.();
      subscribed.delete(channel);
    } else if (frame.type === 'ack' && frame.id !== undefined) {
      acks.resolve(frame.id, undefined);
    }
  };

  return {
    async connect() {
      if (options.publisherOnly && poster) return;
      conn = await openWs(`${options.ws}/`, onMessage, (code, reason) => {
        events.onClose?.(code, reason);
        acks.rejectAll(new Error(`closed ${code}`));
      });
    },
    subscribe(channel: string, subscribeOptions: SubscribeOptions = {}) {
      const done = new Promise<void>((resolve) => subscribed.set(channel, resolve));
      if (subscribeOptions.last) replaying.add(channel);
      conn?.send(JSON.stringify({ op: 'sub', channel, last: subscribeOptions.last ?? 0 }));
      return done;
    },
    async publish(signals: readonly BenchSignal[]) {
      const body = `[${signals.map(signalJson).join(',')}]`;
      if (poster) {
        const answer = await poster.post('/publish', body, { 'content-type': 'application/json' });
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      } else {
        const { id, promise } = acks.add();
        conn?.send(`{"op":"pub","id":${id},"signals":${body}}`);
        await promise;
      }
      return signals.map((signal): AckedEntry => ({ channel: signal.channel, seq: signal.n }));
    },
    pause: () => conn?.pause(),
    resume: () => conn?.resume(),
    async close() {
      poster?.close();
      await conn?.close();
    },
  };
}
