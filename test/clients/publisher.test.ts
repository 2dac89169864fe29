import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPublisher, type PublisherOptions, type SigcastPublisher } from '../../clients/publisher.js';
import { SigcastClientError } from '../../clients/sigcast-client.js';
import { cleanupsPerTest, nodePerTest } from '../support/cleanups.js';

/** Batching, the bounded queue, flush/close and retry rules of the publisher, against a real node. */
const cleanups = cleanupsPerTest();
const node = nodePerTest(cleanups);

function publisher(options: PublisherOptions): SigcastPublisher {
  const created = createPublisher(options);
  cleanups.push(() => created.close());
  return created;
}

async function headSeq(baseUrl: string, channel: string): Promise<number> {
  const response = await fetch(`${baseUrl}/v1/channels/${channel}/history?last=1`);
  return ((await response.json()) as { headSeq: number }).headSeq;
}

const buy = (symbol: string, extra: object = {}) => ({ symbol, side: 'BUY' as const, strength: 0.5, ...extra });

/** A real HTTP front for the node that answers the first `refusals` POSTs with 429 + Retry-After. */
async function throttlingProxy(targetBaseUrl: string, refusals: number) {
  const seen: Array<{ at: number; authorization: string | undefined; signals: number }> = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    seen.push({ at: Date.now(), authorization: request.headers.authorization, signals: (JSON.parse(body) as unknown[]).length });
    if (seen.length <= refusals) {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return response.end(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }));
    }
    const answer = await fetch(`${targetBaseUrl}${request.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe.each(['http', 'websocket'] as const)('SigcastPublisher over %s', (transport) => {
  const urlOf = (server: Awaited<ReturnType<typeof node>>) => (transport === 'http' ? server.baseUrl : server.wsUrl);

  it('batches by count: 1,000 signals with maxBatch 100 take 10 requests, and resolve with their seqs', async () => {
    const server = await node();
    const pub = publisher({ url: urlOf(server), WebSocket, maxBatch: 100, lingerMs: 1_000 });
    const results = await Promise.all(Array.from({ length: 1_000 }, () => pub.publish(buy('BTCUSDT'))));
    expect(results.map((result) => result.seq)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(results.every((result) => result.channel === 'BTCUSDT' && result.attempts === 1 && !result.duplicate)).toBe(true);
    expect(pub.stats).toMatchObject({ requests: 10, retries: 0, published: 1_000, failed: 0, held: 0 });
  });

  it('batches by linger: signals published close together share one request', async () => {
    const server = await node();
    const pub = publisher({ url: urlOf(server), WebSocket, lingerMs: 50 });
    const results = await Promise.all([pub.publish(buy('ETHUSDT')), pub.publish(buy('ETHUSDT')), pub.publish(buy('SOLUSDT'))]);
    expect(results.map((result) => `${result.channel}#${result.seq}`)).toEqual(['ETHUSDT#1', 'ETHUSDT#2', 'SOLUSDT#1']);
    expect(pub.stats.requests).toBe(1);
  });

  it('stamps an idempotency id before the first attempt, keeps the caller\'s own, and reports every channel of a signal', async () => {
    const server = await node();
    const pub = publisher({ url: urlOf(server), WebSocket });
    const [stamped, own, fanned] = await Promise.all([
      pub.publish(buy('BTCUSDT')),
      pub.publish(buy('BTCUSDT', { id: 'bot7-000001' })),
      pub.publish(buy('BTCUSDT', { channels: ['desk.a', 'desk.b', 'desk.a'] })),
    ]);
    expect(stamped.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(own.id).toBe('bot7-000001');
    expect(fanned.entries.map((entry) => entry.channel)).toEqual(['desk.a', 'desk.b']);
    const again = await pub.publish(buy('BTCUSDT', { id: 'bot7-000001' }));
    expect(again).toMatchObject({ seq: own.seq, duplicate: true });
  });

  it('refuses an invalid signal alone and stores the rest of its batch', async () => {
    const server = await node();
    const pub = publisher({ url: urlOf(server), WebSocket, lingerMs: 50 });
    const outcomes = await Promise.allSettled([pub.publish(buy('ADAUSDT')), pub.publish(buy('ADAUSDT', { strength: 2 })), pub.publish(buy('ADAUSDT'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (outcomes[1] as PromiseRejectedResult).reason as SigcastClientError;
    expect(error).toBeInstanceOf(SigcastClientError);
    expect(error.code).toBe('invalid_signal');
    expect(error.details).toEqual([expect.objectContaining({ path: 'strength' })]);
    expect(await headSeq(server.baseUrl, 'ADAUSDT')).toBe(2);
  });

  it('rejects with queue_full past maxQueue, and accepts again once there is room', async () => {
    const server = await node();
    const pub = publisher({ url: urlOf(server), WebSocket, maxQueue: 5, lingerMs: 200 });
    const held = Array.from({ length: 5 }, () => pub.publish(buy('XRPUSDT')));
    const refused = await pub.publish(buy('XRPUSDT')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SigcastClientError);
    expect((refused as SigcastClientError).code).toBe('queue_full');
    expect((refused as SigcastClientError).message).toContain('holds 5 signals');
    await pub.waitForRoom();
    expect(pub.stats.held).toBeLessThan(5);
    expect((await pub.publish(buy('XRPUSDT'))).seq).toBe(6);
    expect((await Promise.all(held)).map((result) => result.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('flush() resolves once everything published before it is settled; close() waits too, then refuses', async () => {
    const server = await node();
    const pub = createPublisher({ url: urlOf(server), WebSocket, maxBatch: 300, lingerMs: 10_000 });
    let settled = 0;
    const first = Array.from({ length: 1_000 }, (_, i) => pub.publish(buy(`F${i % 3}`)).finally(() => (settled += 1)));
    await pub.flush();
    expect(settled).toBe(1_000);
    await Promise.all(first);
    await pub.flush(); // nothing held: resolves at once

    const second = Array.from({ length: 700 }, () => pub.publish(buy('CLOSEME')).finally(() => (settled += 1)));
    const closed = pub.close();
    expect(pub.close()).toBe(closed);
    await closed;
    expect(settled).toBe(1_700);
    expect((await Promise.all(second)).at(-1)!.seq).toBe(700);
    expect(await headSeq(server.baseUrl, 'CLOSEME')).toBe(700);
    const late = await pub.publish(buy('CLOSEME')).catch((error: unknown) => error);
    expect((late as SigcastClientError).code).toBe('client_closed');
  });
});

describe('SigcastPublisher retries', () => {
  it('honours Retry-After on 429, sends the token as a Bearer header, and stores the signal once', async () => {
    const server = await node();
    const proxy = await throttlingProxy(server.baseUrl, 2);
    const pub = publisher({ url: proxy.url, token: 'bot-7.secret', retry: { initialDelayMs: 10 } });
    const result = await pub.publish(buy('BTCUSDT', { id: 'retry-after-1' }));
    expect(result).toMatchObject({ seq: 1, attempts: 3, duplicate: false });
    expect(proxy.seen.map((request) => request.authorization)).toEqual(Array(3).fill('Bearer bot-7.secret'));
    // Retry-After: 1 is a floor, whatever the backoff says (10 ms here).
    expect(proxy.seen[1]!.at - proxy.seen[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(proxy.seen[2]!.at - proxy.seen[1]!.at).toBeGreaterThanOrEqual(1_000);
    expect(await headSeq(server.baseUrl, 'BTCUSDT')).toBe(1);
  });

  it('gives up after retryForMs with the last error, when the server stays unreachable', async () => {
    const server = await node();
    const url = server.baseUrl;
    await server.stop();
    const pub = publisher({ url, retry: { initialDelayMs: 20, maxDelayMs: 50, retryForMs: 300 } });
    const error = (await pub.publish(buy('BTCUSDT')).catch((failure: unknown) => failure)) as SigcastClientError;
    expect(error.code).toBe('network_error');
    expect(error.message).toContain('/v1/signals');
    expect(pub.stats.retries).toBeGreaterThan(0);
    expect(pub.stats.failed).toBe(1);
  });

  it('does not retry an answer that would fail the same way again', async () => {
    const server = await node();
    const pub = publisher({ url: `${server.baseUrl}/nowhere` });
    const error = (await pub.publish(buy('BTCUSDT')).catch((failure: unknown) => failure)) as SigcastClientError;
    expect(error.code).toBe('not_found');
    expect(pub.stats).toMatchObject({ requests: 1, retries: 0 });
  });
});
