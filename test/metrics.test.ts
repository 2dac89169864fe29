import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { moved, scrape, type Scrape } from './support/metrics.js';
import { postSignals, signal, startTestNode, TestClient } from './support/sigcast.js';
import { waitFor } from './support/wait.js';

/**
 * /metrics before and after a scripted workload (publishes, subscribes, replays from Redis and
 * from memory, a duplicate, bad input, a slow consumer, a Redis restart): each counter moves by
 * exactly what the workload did, and /readyz fails while Redis is down and recovers after.
 */
describe('metrics', () => {
  let redis: RedisServerHandle;
  let node: Awaited<ReturnType<typeof startTestNode>>;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer({ persistence: true });
    node = await startTestNode({ REDIS_URL: redis.url, SEND_BUFFER_BYTES: String(16 * 1024), REDIS_RETRY_BASE_MS: '20', REDIS_RETRY_MAX_MS: '200' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await node?.stop();
    await redis?.stop();
  });

  async function connect(encoding: 'json' | 'msgpack'): Promise<TestClient> {
    const client = await TestClient.connect(node.wsUrl, { encoding });
    clients.push(client);
    return client;
  }

  const get = (scrape: Scrape, series: string) => scrape.get(series) ?? 0;

  it('move by what a scripted workload did, and /readyz follows Redis', async () => {
    const start = await scrape(node.baseUrl);

    // Publishes and subscribes: a cold channel replays from Redis, then it is warm (memory).
    expect((await postSignals(node.baseUrl, Array.from({ length: 5 }, (_, i) => signal('M.A', { id: `pre-${i}` })))).status).toBe(200);
    const json = await connect('json');
    await json.subscribe('M.A', { last: 5 });
    const packed = await connect('msgpack');
    await packed.subscribe('M.A', { last: 3 });
    const stale = await connect('json');
    await stale.subscribe('M.A', { since: 2, epoch: 'not-the-epoch' }); // a reset, then all 5 from memory
    await stale.close();
    await waitFor(async () => get(await scrape(node.baseUrl), 'sigcast_subscriptions') === 2, 5000, 'the stale subscriber to go');

    expect((await postSignals(node.baseUrl, Array.from({ length: 10 }, (_, i) => signal('M.A', { id: `http-${i}` })))).status).toBe(200);
    const ack = await packed.request({ op: 'publish', id: 'p1', signals: Array.from({ length: 4 }, (_, i) => signal('M.A', { id: `ws-${i}` })) });
    expect(ack.type).toBe('ack');
    const again = await postSignals(node.baseUrl, signal('M.A', { id: 'http-0' })); // a duplicate
    expect(again.body.entries[0].duplicate).toBe(true);
    await waitFor(() => json.entries('M.A').length === 19 && packed.entries('M.A').length === 17, 5000, 'live deliveries');

    // Bad input, over HTTP and WebSocket.
    expect((await postSignals(node.baseUrl, { symbol: 'M.A', side: 'UP', strength: 2 })).status).toBe(400);
    json.sendRaw('{"op": ');
    await json.waitForFrame((frame) => frame.type === 'error' && frame.code === 'bad_json');

    const afterTraffic = await scrape(node.baseUrl);
    const expectMoved = (series: string, amount: number) => expect(moved(start, afterTraffic, series), series).toBe(amount);
    expectMoved('sigcast_entries_in_total{encoding="json"}', 15);
    expectMoved('sigcast_entries_in_total{encoding="msgpack"}', 4);
    expectMoved('sigcast_duplicates_in_total', 1);
    expectMoved('sigcast_entries_out_total{encoding="json"}', 14);
    expectMoved('sigcast_entries_out_total{encoding="msgpack"}', 14);
    expectMoved('sigcast_replays_total{source="redis"}', 1);
    expectMoved('sigcast_replayed_entries_total{source="redis"}', 5);
    expectMoved('sigcast_replays_total{source="memory"}', 2);
    expectMoved('sigcast_replayed_entries_total{source="memory"}', 3 + 5);
    expectMoved('sigcast_resets_total{reason="epoch_changed"}', 1);
    expectMoved('sigcast_protocol_errors_total{code="invalid_signal"}', 1);
    expectMoved('sigcast_protocol_errors_total{code="bad_json"}', 1);
    expectMoved('sigcast_closes_total{cause="peer"}', 1);
    expectMoved('sigcast_ingest_seconds_count{via="http",outcome="ack"}', 3);
    expectMoved('sigcast_ingest_seconds_count{via="http",outcome="error"}', 1);
    expectMoved('sigcast_ingest_seconds_count{via="ws",outcome="ack"}', 1);
    expectMoved('sigcast_redis_command_seconds_count{command="append",outcome="ok"}', 4);
    expectMoved('sigcast_broker_append_seconds_count', 4);
    expectMoved('sigcast_redis_command_seconds_count{command="history",outcome="ok"}', 1);
    expectMoved('sigcast_redis_command_seconds_count{command="subscribe",outcome="ok"}', 1);
    expectMoved('sigcast_gap_fills_total', 0);
    expect(get(afterTraffic, 'sigcast_connections{transport="uws",encoding="json"}')).toBe(1);
    expect(get(afterTraffic, 'sigcast_connections{transport="uws",encoding="msgpack"}')).toBe(1);
    expect(get(afterTraffic, 'sigcast_subscriptions')).toBe(2);
    expect(get(afterTraffic, 'sigcast_channels')).toBe(1);

    // A slow consumer: it stops reading while big entries pile up, and is closed (4008).
    const slow = await connect('json');
    await slow.subscribe('M.SLOW');
    slow.pauseReading();
    const meta = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`pad${i}`, 'x'.repeat(250)]));
    for (let batch = 0; batch < 200 && get(await scrape(node.baseUrl), 'sigcast_slow_consumer_disconnects_total') === get(afterTraffic, 'sigcast_slow_consumer_disconnects_total'); batch += 1) {
      await postSignals(node.baseUrl, Array.from({ length: 50 }, () => signal('M.SLOW', { meta })));
    }
    slow.resumeReading();
    expect([4008, 1006]).toContain((await slow.waitForClose(10_000)).code);
    await waitFor(async () => get(await scrape(node.baseUrl), 'sigcast_channels') === 1, 5000, 'the slow channel released');
    const afterSlow = await scrape(node.baseUrl);
    expect(moved(afterTraffic, afterSlow, 'sigcast_slow_consumer_disconnects_total')).toBe(1);
    expect(moved(afterTraffic, afterSlow, 'sigcast_closes_total{cause="slow_consumer"}')).toBe(1);
    expect(moved(afterTraffic, afterSlow, 'sigcast_redis_command_seconds_count{command="unsubscribe",outcome="ok"}')).toBe(1);

    // A Redis restart: /readyz says why it fails meanwhile, ingest answers 503, then one resync.
    await redis.stop();
    await waitFor(async () => (await fetch(`${node.baseUrl}/readyz`)).status === 503, 5000, '/readyz to fail');
    const notReady = (await (await fetch(`${node.baseUrl}/readyz`)).json()) as { reason: string; message: string };
    expect(notReady.reason).toBe('broker_unavailable');
    expect(notReady.message).toMatch(/^storage is unavailable: Redis is not connected/);
    expect((await postSignals(node.baseUrl, signal('M.A'))).status).toBe(503);
    await redis.restart();
    await waitFor(async () => (await fetch(`${node.baseUrl}/readyz`)).status === 200, 10_000, '/readyz to recover');
    await waitFor(async () => moved(afterSlow, await scrape(node.baseUrl), 'sigcast_resyncs_total') === 1, 5000, 'the resync');
    const end = await scrape(node.baseUrl);
    expect(moved(afterSlow, end, 'sigcast_broker_reconnects_total')).toBe(1);
    expect(moved(afterSlow, end, 'sigcast_resyncs_total')).toBe(1); // one warm channel
    expect(moved(afterSlow, end, 'sigcast_protocol_errors_total{code="unavailable"}')).toBe(1);
    expect(moved(afterSlow, end, 'sigcast_redis_command_seconds_count{command="append",outcome="error"}')).toBe(1);
    expect(moved(afterSlow, end, 'sigcast_resets_total{reason="epoch_changed"}')).toBe(0); // appendonly: the history survived
    expect(moved(afterSlow, end, 'sigcast_gap_fills_total')).toBe(0);

    // The process side: memory, heap, event loop.
    expect(get(end, 'sigcast_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(get(end, 'sigcast_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(end.has('sigcast_nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(get(end, 'sigcast_event_loop_utilization')).toBeGreaterThan(0);
    expect(get(end, 'sigcast_event_loop_utilization')).toBeLessThanOrEqual(1);
  });
});
