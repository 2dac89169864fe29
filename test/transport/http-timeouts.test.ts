// Slow HTTP clients (slowloris): both transports cut a connection whose request has not arrived
// within about 10 s, and an idle keep-alive connection as soon (uWS's fixed HTTP timeout; node's
// defaults would hold them 60 s, 300 s). The ws transport says 408 where a request had begun;
// uWS closes without a word (README "Known limits of the uWS transport").
import { describe, expect, it } from 'vitest';
import { rawHttp } from '../support/raw-http.js';
import { startTestNode } from '../support/sigcast.js';

const drip = (text: string): Buffer[] => [...text].map((char) => Buffer.from(char));

describe('HTTP timeouts', () => {
  it.concurrent.each(['uws', 'ws'] as const)('%s closes slow requests and idle connections within about 10 s', async (transport) => {
    const node = await startTestNode({ TRANSPORT: transport });
    try {
      const head = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890123456789012345678901234567890\r\n\r\n';
      const [idle, headers, body, keptAlive] = await Promise.all([
        rawHttp(node.port, Buffer.alloc(0), { awaitClose: true, timeoutMs: 20_000 }),
        // One byte every 300 ms: the head would take 27 s.
        rawHttp(node.port, Buffer.from('G'), { more: drip(head.slice(1)), gapMs: 300, awaitClose: true, timeoutMs: 20_000 }),
        rawHttp(node.port, Buffer.from('POST /v1/signals HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'), {
          more: drip('{'.repeat(100)),
          gapMs: 300,
          awaitClose: true,
          timeoutMs: 20_000,
        }),
        rawHttp(node.port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), { answers: 1, awaitClose: true, timeoutMs: 20_000 }),
      ]);
      for (const [name, exchange] of Object.entries({ idle, headers, body, keptAlive })) {
        expect(exchange.closed, `${name}: closed`).toBe(true);
        // 10 s, counted by uWS in 4 s ticks (so as early as 8 s) and checked by node every second.
        expect(exchange.elapsedMs, `${name}: closed after`).toBeGreaterThanOrEqual(7000);
        expect(exchange.elapsedMs, `${name}: closed after`).toBeLessThanOrEqual(16_000);
      }
      expect(keptAlive.answers.map((answer) => answer.status)).toEqual([200]);
      const timedOut = transport === 'ws' ? [408] : [];
      expect(headers.answers.map((answer) => answer.status)).toEqual(timedOut);
      expect(body.answers.map((answer) => answer.status)).toEqual(timedOut);
      expect(idle.answers.map((answer) => answer.status)).toEqual(timedOut);
    } finally {
      await node.stop();
    }
  }, 40_000);
});
