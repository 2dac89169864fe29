// Whether Redis TLS tests can run here: openssl makes the certificates, and this redis-server
// starts on a TLS port and answers PING over TLS. Probed once per test process; tests skip with
// the reason when it cannot.
import type { Redis } from 'ioredis';
import { REDIS_BINARY } from './redis-process.js';
import { type RedisServerHandle, startRedisServer } from './redis-server.js';

export type TlsSupport = { supported: true } | { supported: false; reason: string };

let tlsSupport: Promise<TlsSupport> | undefined;

export function redisTlsSupport(): Promise<TlsSupport> {
  tlsSupport ??= (async (): Promise<TlsSupport> => {
    let server: RedisServerHandle | undefined;
    let client: Redis | undefined;
    try {
      server = await startRedisServer({ tls: true });
      client = server.client({ maxRetriesPerRequest: 0, retryStrategy: () => null });
      await client.ping();
      return { supported: true };
    } catch (error) {
      // The end of redis-server's output says why it refused (e.g. an unknown tls-port directive).
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(-300);
      return { supported: false, reason: `redis-server (${REDIS_BINARY}) with TLS or openssl is not usable here: ${reason}` };
    } finally {
      client?.disconnect();
      await server?.stop();
    }
  })();
  return tlsSupport;
}
