import { createRequire } from 'node:module';
import { createServer } from 'node:http';

/**
 * Baseline (3): Socket.IO 4 with @socket.io/redis-adapter (every broadcast goes through Redis
 * pub/sub so that every node sees it). Loaded from bench/peers/node_modules at run time, so
 * sigcast's own type check never needs the peers installed.
 */
interface IoSocket {
  join(room: string): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
interface IoServer {
  adapter(factory: unknown): void;
  on(event: 'connection', listener: (socket: IoSocket) => void): void;
  to(room: string): { emit(event: string, payload: unknown): void };
}
interface IoModule {
  Server: new (server: unknown, options: object) => IoServer;
}
interface AdapterModule {
  createAdapter(pub: unknown, sub: unknown): unknown;
}
interface RedisClient {
  duplicate(): RedisClient;
}
interface IoredisModule {
  Redis: new (url: string) => RedisClient;
}

const require = createRequire(import.meta.url);
const { Server } = require('socket.io') as IoModule;
const { createAdapter } = require('@socket.io/redis-adapter') as AdapterModule;
const { Redis } = require('ioredis') as IoredisModule;

const port = Number(process.env.PORT ?? 0);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Signal {
  symbol: string;
}

const http = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end());
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
const pubClient = new Redis(redisUrl);
io.adapter(createAdapter(pubClient, pubClient.duplicate()));

io.on('connection', (socket) => {
  socket.on('sub', (channel, ack) => {
    socket.join(String(channel));
    if (typeof ack === 'function') ack();
  });
  socket.on('pub', (signals, ack) => {
    for (const signal of signals as Signal[]) io.to(signal.symbol).emit('entry', { channel: signal.symbol, ts: Date.now(), signal });
    if (typeof ack === 'function') ack();
  });
});

http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
});
process.on('SIGTERM', () => process.exit(0));
