import { loadUws } from '../../src/transport/uws-loader.js';

/**
 * Baseline (1), the ceiling: bare uWebSockets.js topic publish. No Redis, no validation, no
 * protocol beyond a one-letter prefix: "S<topic>" subscribes, "P<topic>\n<frame>[\n<frame>...]"
 * publishes each frame as is to the topic and answers one "a" to the publisher.
 */
const { uws, native, reason } = loadUws();
if (!native) {
  console.error(`FATAL: raw-uws baseline refuses to run on the uWebSockets.js JavaScript emulation: ${reason}`);
  process.exit(3);
}

const port = Number(process.env.PORT ?? 0);
const maxBackpressure = Number(process.env.SEND_BUFFER_BYTES ?? 4 * 1024 * 1024);
const decoder = new TextDecoder('latin1');

const app = uws.App();
const closed = new WeakSet<object>();
app.ws('/*', {
  compression: uws.DISABLED,
  maxPayloadLength: 1024 * 1024,
  maxBackpressure,
  // Past the limit uWS would skip messages silently; closing makes the loss visible.
  closeOnBackpressureLimit: 1,
  idleTimeout: 0,
  close(ws) {
    closed.add(ws);
  },
  message(ws, message) {
    const bytes = new Uint8Array(message);
    if (bytes[0] === 0x53 /* S */) {
      const topic = decoder.decode(bytes.subarray(1));
      ws.subscribe(topic);
      ws.send(`s${topic}`);
      return;
    }
    if (bytes[0] === 0x50 /* P */) {
      // Publish outside the handler, as an app fed by anything else (Redis, a queue) does: uWS
      // publishes made inside a message handler are written per message, which cost ~10x more
      // server CPU per delivery here (2.6-2.8 vs 0.25 us) and would not be a ceiling.
      const copy = bytes.slice();
      setImmediate(() => {
        if (closed.has(ws)) return;
        let start = copy.indexOf(10);
        const topic = decoder.decode(copy.subarray(1, start));
        while (start >= 0 && start < copy.length) {
          const end = copy.indexOf(10, start + 1);
          app.publish(topic, copy.subarray(start + 1, end < 0 ? copy.length : end), false);
          start = end;
        }
        ws.cork(() => ws.send('a'));
      });
    }
  },
});
app.get('/healthz', (res) => {
  res.end('ok');
});
app.listen('127.0.0.1', port, (listenSocket) => {
  if (!listenSocket) {
    console.error(`FATAL: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`listening ${uws.us_socket_local_port(listenSocket)}`);
});
process.on('SIGTERM', () => process.exit(0));
