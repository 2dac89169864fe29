// What resource tests check on a node and its Redis: the node's own counts and what Redis holds
// for it, and a client that sends many frames in one TCP write.
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Gauge } from 'prom-client';
import type WebSocket from 'ws';
import type { Metrics } from '../../src/metrics.js';

export async function gaugeValue(gauge: Gauge): Promise<number> {
  return (await gauge.get()).values.reduce((sum, sample) => sum + sample.value, 0);
}

/** Connections, subscriptions and channels as a node's metrics count them. */
export async function nodeCounts(metrics: Metrics): Promise<{ connections: number; subscriptions: number; channels: number }> {
  return {
    connections: await gaugeValue(metrics.connections),
    subscriptions: await gaugeValue(metrics.subscriptions),
    channels: await gaugeValue(metrics.channels),
  };
}

/** Pub/sub channels under a key prefix that Redis holds for any client. */
export async function redisChannels(redis: Redis, prefix: string): Promise<string[]> {
  return ((await redis.pubsub('CHANNELS', `${prefix}:*`)) as string[]).sort();
}

/** The `sub=` counts of every `sigcast-subscriber` connection, from CLIENT LIST. */
export async function subscriberConnectionSubs(redis: Redis): Promise<number> {
  const list = String(await redis.client('LIST'));
  let total = 0;
  for (const line of list.split('\n')) {
    if (line.includes(' name=sigcast-subscriber ')) total += Number(/\bsub=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return total;
}

/** Subscribers Redis counts for each of these pub/sub channels (PUBSUB NUMSUB). */
export async function numSub(redis: Redis, channels: string[]): Promise<number[]> {
  if (channels.length === 0) return [];
  const reply = (await redis.pubsub('NUMSUB', ...channels)) as Array<string | number>;
  return channels.map((_, index) => Number(reply[2 * index + 1]));
}

/** The TCP socket under a `ws` client. */
export function rawSocketOf(socket: WebSocket): Duplex {
  return (socket as unknown as { _socket: Duplex })._socket;
}

/** Sends every frame through `ws` with its TCP socket corked: they leave in one write. */
export function sendInOneWrite(socket: WebSocket, frames: ReadonlyArray<string | Uint8Array>): void {
  const raw = rawSocketOf(socket);
  raw.cork();
  for (const frame of frames) socket.send(frame, { binary: typeof frame !== 'string' });
  raw.uncork();
}
