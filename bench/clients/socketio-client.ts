import type { AckedEntry, BenchClient, BenchSignal, ClientEvents, ClientOptions } from './adapter.js';
import { signalJson } from './adapter.js';
import { KEY, numberAfter, stringAfter } from './fields.js';
import { openWs, Pending, type WsConn } from './ws-conn.js';

/**
 * A minimal Socket.IO v5 / Engine.IO v4 client over the same `ws` client as every other system
 * (websocket transport only): "0{..}" open, "40" connect, "2"/"3" ping/pong, "42[...]" events,
 * "42<id>[...]" events with ack, "43<id>[...]" acks. Keeps client costs comparable across systems.
 */
const ENTRY_EVENT = Buffer.from('["entry",');

export function socketIoClient(options: ClientOptions, events: ClientEvents): BenchClient {
  const acks = new Pending<undefined>();
  let conn: WsConn | undefined;
  let connected: (() => void) | undefined;

  const onMessage = (data: Buffer): void => {
    // '42["entry",{...}]': read the fields from the bytes like every other client.
    if (data[0] === 0x34 && data[1] === 0x32 && data[2] === 0x5b && data.indexOf(ENTRY_EVENT) === 2) {
      events.onEntry({ channel: stringAfter(data, KEY.channel), seq: numberAfter(data, KEY.n), sent: numberAfter(data, KEY.sent), replay: false });
      return;
    }
    const text = data.toString('utf8');
    const engineType = text.charCodeAt(0);
    if (engineType === 0x32 /* 2: ping */) {
      conn?.send('3');
      return;
    }
    if (engineType !== 0x34 /* 4: message */) return;
    const ioType = text.charCodeAt(1);
    if (ioType === 0x30 /* 0: connected */) {
      connected?.();
    } else if (ioType === 0x32 /* 2: event */) {
      const [name, payload] = JSON.parse(text.slice(2)) as [string, { channel: string; signal: { meta: { sent: number; n: number } } }];
      if (name === 'entry') events.onEntry({ channel: payload.channel, seq: payload.signal.meta.n, sent: payload.signal.meta.sent, replay: false });
    } else if (ioType === 0x33 /* 3: ack */) {
      const bracket = text.indexOf('[');
      acks.resolve(Number(text.slice(2, bracket)), undefined);
    }
  };

  const emitWithAck = (event: string, payloadJson: string): Promise<undefined> => {
    const { id, promise } = acks.add();
    conn?.send(`42${id}["${event}",${payloadJson}]`);
    return promise;
  };

  return {
    async connect() {
      const ready = new Promise<void>((resolve) => (connected = resolve));
      conn = await openWs(`${options.ws}/socket.io/?EIO=4&transport=websocket`, onMessage, (code, reason) => {
        events.onClose?.(code, reason);
        acks.rejectAll(new Error(`closed ${code}`));
      });
      conn.send('40');
      await ready;
    },
    async subscribe(channel: string) {
      await emitWithAck('sub', JSON.stringify(channel));
    },
    async publish(signals: readonly BenchSignal[]) {
      await emitWithAck('pub', `[${signals.map(signalJson).join(',')}]`);
      return signals.map((signal): AckedEntry => ({ channel: signal.channel, seq: signal.n }));
    },
    pause: () => conn?.pause(),
    resume: () => conn?.resume(),
    async close() {
      await conn?.close();
    },
  };
}
