import { afterAll, beforeAll, describe } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { heartbeatCase, httpCases, protocolCases, shutdownCase, type EncodingName, type TransportName } from './protocol.case.js';

/** The /v1 protocol on both transports x both encodings, against one real redis-server. */
const TRANSPORTS: TransportName[] = ['uws', 'ws'];
const ENCODINGS: EncodingName[] = ['json', 'msgpack'];

let redis: RedisServerHandle;
const redisUrl = () => redis.url;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.stop());

describe.each(TRANSPORTS.flatMap((transport) => ENCODINGS.map((encoding) => ({ transport, encoding }))))(
  'protocol over $transport with $encoding',
  (target) => protocolCases(target, redisUrl),
);

describe.each(TRANSPORTS)('HTTP over %s', (transport) => httpCases(transport, redisUrl));

describe('shutdown', () => {
  for (const transport of TRANSPORTS) shutdownCase(transport, redisUrl);
});

// The slowest cases wait on timers only: both transports at once.
describe.concurrent('heartbeats', () => {
  for (const transport of TRANSPORTS) heartbeatCase(transport, redisUrl);
});
