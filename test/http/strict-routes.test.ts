// The routes' answers to malformed paths and query strings, with a logger that records: a client's
// mistake is a 400 and nothing at all in the log (it was a 500 with a stack trace per request).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { ERRORS, MAX_ERROR_DETAILS, SigcastError } from '../../src/errors.js';
import { createRoutes } from '../../src/http/routes.js';
import { Publisher } from '../../src/ingest/publisher.js';
import { Metrics } from '../../src/metrics.js';
import type { HttpRequest } from '../../src/protocol/http.js';

function routes() {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
  const broker = new MemoryBroker({ historySize: 100, historyTtlMs: 60_000 });
  const metrics = new Metrics();
  const handler = createRoutes({ broker, publisher: new Publisher(broker, metrics, { maxBatch: 100, maxChannelsPerSignal: 16, maxSignalBytes: 16_384, newChannelsPerMinute: 1000 }, log), metrics, log, isClosing: () => false, resyncingChannels: () => [] });
  const get = async (target: string, method = 'GET') => {
    const mark = target.indexOf('?');
    const request: HttpRequest = {
      method,
      path: mark === -1 ? target : target.slice(0, mark),
      query: new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1)),
      headers: {},
      body: Buffer.alloc(0),
    };
    const answer = await handler(request);
    const json = (answer.headers?.['content-type'] ?? '').startsWith('application/json');
    return { status: answer.status, headers: answer.headers ?? {}, error: json ? (JSON.parse(String(answer.body)) as { error?: { code: string; message: string } }).error : undefined };
  };
  return { get, lines };
}

describe("routes: malformed input is the client's error", () => {
  it.each(['%', '%E0%A4%A', '%FF', 'a%zz', '%C0%AF'])('history of /v1/channels/%s/history is 400 invalid_channel, and nothing is logged', async (segment) => {
    const { get, lines } = routes();
    const answer = await get(`/v1/channels/${segment}/history`);
    expect([answer.status, answer.error?.code]).toEqual([400, 'invalid_channel']);
    expect(lines).toEqual([]);
  });

  it('405 answers carry Allow, HEAD is served where GET is', async () => {
    const { get } = routes();
    expect((await get('/v1/signals')).headers['allow']).toBe('POST');
    expect((await get('/healthz', 'PUT')).headers['allow']).toBe('GET, HEAD');
    expect((await get('/v1/channels/X/history', 'DELETE')).headers['allow']).toBe('GET, HEAD');
    expect((await get('/v1/channels/X/history', 'HEAD')).status).toBe(200);
    expect((await get('/metrics', 'HEAD')).status).toBe(200);
  });

  it('a long unknown path or channel is not echoed at length', async () => {
    const { get } = routes();
    expect((await get(`/${'p'.repeat(5000)}`)).error!.message.length).toBeLessThan(200);
    expect((await get(`/v1/channels/${'c'.repeat(5000)}/history`)).error!.message.length).toBeLessThan(200);
  });
});

describe('SigcastError details', () => {
  it(`keeps the first ${MAX_ERROR_DETAILS} details, bounded, and counts them all`, () => {
    const details = Array.from({ length: 500 }, (_, index) => ({ index, path: 'p'.repeat(10_000), message: 'm'.repeat(10_000) }));
    const error = new SigcastError('invalid_signal', undefined, details);
    expect(error.details).toHaveLength(MAX_ERROR_DETAILS);
    expect(error.detailCount).toBe(500);
    for (const detail of error.details!) expect(detail.path.length + detail.message.length).toBeLessThanOrEqual(400);
    expect(new SigcastError('invalid_signal', undefined, details.slice(0, 3)).detailCount).toBeUndefined();
    expect(new SigcastError('invalid_signal', undefined, details.slice(0, 3), { detailCount: 70 }).detailCount).toBe(70);
    expect(new SigcastError('bad_request', 'x'.repeat(10_000)).message.length).toBeLessThanOrEqual(512);
    expect(new SigcastError('bad_request').message).toBe(ERRORS.bad_request.message);
  });
});
