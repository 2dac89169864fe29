import { createServer, type IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Baseline (2): what someone writes in an afternoon. node:http + ws + ioredis; per signal
 * LPUSH + LTRIM + PUBLISH (pipelined per batch); every pub/sub message is re-sent to every socket
 * of its channel with ws.send (no shared encoding, no backpressure limit, no seqs).
 */
const port = Number(process.env.PORT ?? 0);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HISTORY = 1000;

const pub = new Redis(redisUrl);
const sub = new Redis(redisUrl);
const sockets = new Map<string, Set<WebSocket>>();
/** The Redis SUBSCRIBE of each channel: every socket waits for it before it is told "subscribed". */
const redisSubscriptions = new Map<string, Promise<unknown>>();

interface Signal {
  symbol: string;
  [key: string]: unknown;
}

async function store(signals: Signal[]): Promise<void> {
  const pipeline = pub.pipeline();
  for (const signal of signals) {
    const message = JSON.stringify({ type: 'entry', channel: signal.symbol, ts: Date.now(), signal });
    pipeline.lpush(`h:${signal.symbol}`, message).ltrim(`h:${signal.symbol}`, 0, HISTORY - 1).publish(signal.symbol, message);
  }
  const results = await pipeline.exec();
  // Every third reply is PUBLISH's receiver count: 0 while this node has sockets means a lost hint.
  const lostAt = results?.findIndex((reply, i) => i % 3 === 2 && reply[1] === 0 && (sockets.get(signals[(i - 2) / 3]?.symbol ?? '')?.size ?? 0) > 0);
  if (lostAt !== undefined && lostAt >= 0 && !warned) {
    warned = true;
    console.error(`PUBLISH reached no subscriber although sockets wait on ${signals[(lostAt - 2) / 3]?.symbol}`);
  }
}
let warned = false;

sub.on('message', (channel: string, message: string) => {
  for (const socket of sockets.get(channel) ?? []) socket.send(message);
});

async function subscribe(socket: WebSocket, channel: string, last: number): Promise<void> {
  let set = sockets.get(channel);
  if (!set) {
    set = new Set();
    sockets.set(channel, set);
    redisSubscriptions.set(channel, sub.subscribe(channel));
  }
  set.add(socket);
  await redisSubscriptions.get(channel);
  if (last > 0) {
    const history = await pub.lrange(`h:${channel}`, 0, last - 1);
    for (let i = history.length - 1; i >= 0; i--) socket.send(history[i] ?? '');
  }
  socket.send(JSON.stringify({ type: 'subscribed', channel }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    readBody(req)
      .then(async (body) => {
        const signals = JSON.parse(body) as Signal[];
        await store(signals);
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"stored":${signals.length}}`);
      })
      .catch((error: unknown) => res.writeHead(500).end(String(error)));
    return;
  }
  res.writeHead(req.url === '/healthz' ? 200 : 404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket) => {
  const mine = new Set<string>();
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as { op: string; id?: number; channel?: string; last?: number; signals?: Signal[] };
    if (frame.op === 'sub' && frame.channel) {
      mine.add(frame.channel);
      void subscribe(socket, frame.channel, frame.last ?? 0);
    } else if (frame.op === 'pub' && frame.signals) {
      void store(frame.signals).then(() => socket.send(`{"type":"ack","id":${frame.id}}`));
    }
  });
  socket.on('close', () => {
    for (const channel of mine) sockets.get(channel)?.delete(socket);
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
});
process.on('SIGTERM', () => process.exit(0));
