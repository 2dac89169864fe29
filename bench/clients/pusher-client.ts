import { createHash, createHmac } from 'node:crypto';
import type { AckedEntry, BenchClient, BenchSignal, ClientEvents, ClientOptions } from './adapter.js';
import { signalJson } from './adapter.js';
import { KEY, numberAfter, stringAfter } from './fields.js';
import { createPoster } from './http-post.js';
import { openWs, type WsConn } from './ws-conn.js';

/** The app soketi is configured with (bench/systems/soketi.ts writes the same into its config). */
export const PUSHER_APP = { id: 'bench', key: 'bench-key', secret: 'bench-secret' } as const;

const SIGNAL_EVENT = Buffer.from('"event":"signal"');

interface PusherFrame {
  event: string;
  channel?: string;
  data?: string | object;
}

/**
 * soketi over the Pusher protocol: subscribe over WebSocket, publish through the signed HTTP API
 * (batch_events), as Pusher users do. Pusher carries event data as a string, hence two parses.
 */
export function pusherClient(options: ClientOptions, events: ClientEvents): BenchClient {
  const poster = createPoster(options.http, 16);
  const subscribed = new Map<string, () => void>();
  let conn: WsConn | undefined;
  let established: (() => void) | undefined;

  const onMessage = (data: Buffer): void => {
    if (data.indexOf(SIGNAL_EVENT) >= 0) {
      events.onEntry({ channel: stringAfter(data, KEY.channel), seq: numberAfter(data, KEY.escapedN), sent: numberAfter(data, KEY.escapedSent), replay: false });
      return;
    }
    const frame = JSON.parse(data.toString('utf8')) as PusherFrame;
    if (frame.event === 'signal' && typeof frame.data === 'string') {
      const signal = JSON.parse(frame.data) as { meta: { sent: number; n: number } };
      events.onEntry({ channel: frame.channel ?? '', seq: signal.meta.n, sent: signal.meta.sent, replay: false });
    } else if (frame.event === 'pusher_internal:subscription_succeeded') {
      subscribed.get(frame.channel ?? '')?.();
      subscribed.delete(frame.channel ?? '');
    } else if (frame.event === 'pusher:connection_established') {
      established?.();
    } else if (frame.event === 'pusher:ping') {
      conn?.send('{"event":"pusher:pong","data":{}}');
    }
  };

  return {
    async connect() {
      if (options.publisherOnly) return;
      const ready = new Promise<void>((resolve) => (established = resolve));
      conn = await openWs(`${options.ws}/app/${PUSHER_APP.key}?protocol=7&client=js&version=8.4.0&flash=false`, onMessage, (code, reason) =>
        events.onClose?.(code, reason),
      );
      await ready;
    },
    subscribe(channel: string) {
      const done = new Promise<void>((resolve) => subscribed.set(channel, resolve));
      conn?.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel } }));
      return done;
    },
    async publish(signals: readonly BenchSignal[]) {
      const batch = signals.map((signal) => ({ name: 'signal', channel: signal.channel, data: signalJson(signal) }));
      const body = JSON.stringify({ batch });
      const path = `/apps/${PUSHER_APP.id}/batch_events`;
      const answer = await poster.post(`${path}?${signQuery('POST', path, body)}`, body, { 'content-type': 'application/json' });
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      return signals.map((signal): AckedEntry => ({ channel: signal.channel, seq: signal.n }));
    },
    pause: () => conn?.pause(),
    resume: () => conn?.resume(),
    async close() {
      poster.close();
      await conn?.close();
    },
  };
}

/** Pusher HTTP API authentication: HMAC-SHA256 over method, path and the sorted query. */
function signQuery(method: string, path: string, body: string): string {
  const params: Record<string, string> = {
    auth_key: PUSHER_APP.key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: createHash('md5').update(body).digest('hex'),
  };
  const query = Object.keys(params)
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
  const signature = createHmac('sha256', PUSHER_APP.secret).update(`${method}\n${path}\n${query}`).digest('hex');
  return `${query}&auth_signature=${signature}`;
}
