import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedisConnection } from '../../src/broker/redis-connection.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';

/** ioredis alone listens for a socket's first error only; a second one must not crash the process. */
describe('Redis connections survive repeated socket errors', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  function connect(): Redis {
    const redis = createRedisConnection({ url: server.url, retryBaseMs: 20, retryMaxMs: 100, commandTimeoutMs: 1000 }, 'guard-test');
    redis.on('error', () => undefined);
    onTestFinished(() => redis.disconnect());
    return redis;
  }

  it('keeps a listener on the socket after the first error, and reconnects', async () => {
    const redis = connect();
    await waitFor(() => redis.status === 'ready', 5000, 'first connection');
    const socket = redis.stream;
    // Two errors on one socket, as a TLS connection torn down mid-alert can produce.
    expect(() => {
      socket.emit('error', new Error('first'));
      socket.emit('error', new Error('second'));
    }).not.toThrow();
    socket.destroy();
    await waitFor(() => redis.status === 'ready' && redis.stream !== socket, 5000, 'reconnection');
    expect(await redis.ping()).toBe('PONG');
  });
});
