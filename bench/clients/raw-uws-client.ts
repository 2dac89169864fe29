import type { AckedEntry, BenchClient, BenchSignal, ClientEvents, ClientOptions } from './adapter.js';
import { signalJson } from './adapter.js';
import { KEY, numberAfter, stringAfter } from './fields.js';
import { openWs, type WsConn } from './ws-conn.js';

/** Client of the raw uWS baseline: frames shaped and sized like sigcast's entry frames. */
export function rawUwsClient(options: ClientOptions, events: ClientEvents): BenchClient {
  let conn: WsConn | undefined;
  const subscribeWaiters = new Map<string, () => void>();
  // Acks come back in send order: a FIFO of resolvers is enough.
  const ackQueue: Array<() => void> = [];
  let ackHead = 0;

  const onMessage = (data: Buffer): void => {
    const first = data[0];
    if (first === 0x61 /* a */) {
      const resolve = ackQueue[ackHead];
      ackQueue[ackHead++] = noop;
      if (ackHead > 4096) {
        ackQueue.splice(0, ackHead);
        ackHead = 0;
      }
      resolve?.();
    } else if (first === 0x73 /* s */) {
      const topic = data.toString('latin1', 1);
      subscribeWaiters.get(topic)?.();
      subscribeWaiters.delete(topic);
    } else {
      events.onEntry({ channel: stringAfter(data, KEY.channel), seq: numberAfter(data, KEY.seq), sent: numberAfter(data, KEY.sent), replay: false });
    }
  };

  return {
    async connect() {
      conn = await openWs(options.ws, onMessage, (code, reason) => events.onClose?.(code, reason));
    },
    subscribe(channel) {
      const promise = new Promise<void>((resolve) => subscribeWaiters.set(channel, resolve));
      conn?.send(`S${channel}`);
      return promise;
    },
    async publish(signals: readonly BenchSignal[]) {
      // One message per channel of the batch, one frame per line; one ack per message.
      const byChannel = new Map<string, string[]>();
      for (const signal of signals) {
        const frame =
          `{"type":"entry","channel":"${signal.channel}","seq":${signal.n},"epoch":"raw","ts":${Math.floor(signal.sent)},` +
          `"signal":${signalJson(signal).slice(0, -1)},"ts":${Math.floor(signal.sent)},"id":"01JDRAW0000000000000${String(signal.n).padStart(6, '0')}"}}`;
        const frames = byChannel.get(signal.channel) ?? [];
        frames.push(frame);
        byChannel.set(signal.channel, frames);
      }
      const acks: Array<Promise<void>> = [];
      for (const [channel, frames] of byChannel) {
        acks.push(new Promise<void>((resolve) => ackQueue.push(resolve)));
        conn?.send(`P${channel}\n${frames.join('\n')}`);
      }
      await Promise.all(acks);
      return signals.map((signal): AckedEntry => ({ channel: signal.channel, seq: signal.n }));
    },
    async close() {
      await conn?.close();
    },
  };
}

function noop(): void {}
