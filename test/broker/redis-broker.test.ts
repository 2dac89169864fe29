import { afterAll, beforeAll } from 'vitest';
import { createRedisBroker } from '../../src/broker/redis-broker.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { describeBrokerContract } from './broker.case.js';

let server: RedisServerHandle;
let fixtures = 0;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describeBrokerContract('RedisBroker', async (options) => {
  // A key prefix per case keeps cases independent on one server without flushing anything.
  const broker = createRedisBroker({
    url: server.url,
    keyPrefix: `contract${++fixtures}`,
    retryBaseMs: 20,
    retryMaxMs: 200,
    commandTimeoutMs: 1000,
    ...options,
  });
  await broker.ready();
  return { broker, teardown: () => broker.close() };
});
