// The hostile-input suite, run by hostile-uws.test.ts and hostile-ws.test.ts: every row of the
// tables against one node of that transport on a real redis-server. After each case it checks
// that nothing was stored (the case's channel is empty and Redis holds no new key), and that the
// node still serves: a fresh subscription on a long-lived connection receives a fresh HTTP publish.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { httpRequest, rawHttp, type RawExchange } from '../support/raw-http.js';
import { OPCODE, RawWebSocket } from '../support/raw-ws.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { postSignals, startTestNode, TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';
import { BODY_ROWS } from './body-cases.js';
import { dataFrame, isPerTransport, outcomeFor, packr, signalTo, type Context, type EncodingName, type HttpOutcome, type HttpRow, type TransportName, type UpgradeRow, type WsOutcome, type WsRow } from './cases.js';
import { HTTP_ROWS, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_URL_BYTES } from './http-cases.js';
import { MAX_FRAME_BYTES, UPGRADE_ROWS, WS_CONTENT_ROWS, WS_PROTOCOL_ROWS } from './ws-cases.js';

type TestNode = Awaited<ReturnType<typeof startTestNode>>;
const PREFIX = 'sc';
/** How long a connection must stay silent to count as held (uWS's known limits). */
const HELD_MS = 400;

export function hostileSuite(transport: TransportName): void {
  describe(`hostile input on ${transport}`, () => {
    let redis: RedisServerHandle;
    let client: Redis;
    let node: TestNode;
    let prober: TestClient;
    let cases = 0;

    beforeAll(async () => {
      redis = await startRedisServer();
      client = redis.client();
      node = await startTestNode({
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: PREFIX,
        TRANSPORT: transport,
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        MAX_BATCH: '50',
        MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        MAX_URL_BYTES: String(MAX_URL_BYTES),
        MAX_HEADER_BYTES: String(MAX_HEADER_BYTES),
      });
      prober = await TestClient.connect(node.wsUrl);
    });

    afterAll(async () => {
      await prober?.close();
      await node?.stop();
      client?.disconnect();
      await redis?.stop();
    });

    /** Runs one case and every check after it. */
    async function run(stored: number, body: (context: Context) => Promise<void>): Promise<void> {
      const context: Context = { channel: `hostile.${++cases}`, port: node.port };
      const keysBefore = await client.dbsize();
      await body(context);
      const log = channelKeys(PREFIX, context.channel).log;
      if (stored === 0) expect(await client.dbsize(), 'keys added by a rejected input').toBe(keysBefore);
      else await waitFor(async () => (await client.llen(log)) === stored, 5000, `${stored} stored entries`);
      await probe(cases);
      // Checked again after the probe: nothing of the case arrives late.
      expect(await client.llen(log)).toBe(stored);
    }

    async function probe(n: number): Promise<void> {
      const channel = `probe.${n}`;
      await prober.subscribe(channel);
      const answer = await postSignals(node.baseUrl, signalTo(channel));
      expect(answer.status, 'a valid publish after the case').toBe(200);
      await waitFor(() => prober.entries(channel).length === 1, 5000, 'the probe entry');
      prober.send({ op: 'unsubscribe', channel });
    }

    describe('HTTP', () => {
      for (const row of [...HTTP_ROWS, ...BODY_ROWS]) {
        const outcome = outcomeFor(row.expect, transport);
        it(label(row.name, row.finding, transport === 'uws' && isPerTransport(row.expect)), () => run(storedBy(outcome), (context) => httpCase(row, outcome, context)));
      }
    });

    describe('WebSocket handshake', () => {
      for (const row of UPGRADE_ROWS) {
        const outcome = outcomeFor(row.expect, transport);
        it(label(row.name, row.finding, transport === 'uws' && isPerTransport(row.expect)), () => run(0, (context) => upgradeCase(row, outcome, context)));
      }
    });

    describe('WebSocket frames', () => {
      for (const row of [...WS_PROTOCOL_ROWS, ...WS_CONTENT_ROWS]) {
        const outcome = outcomeFor(row.expect, transport);
        for (const encoding of row.encodings) {
          it(label(`${row.name} (${encoding})`, row.finding, transport === 'uws' && isPerTransport(row.expect)), () => run('stored' in outcome ? (outcome.stored ?? 0) : 0, (context) => wsCase(row, outcome, encoding, context)));
        }
      }
    });
  });
}

/** The row's name, the finding it pins, and whether it pins a limit of uWS 20.30 rather than sigcast's answer. */
function label(name: string, finding: number | undefined, uwsLimit: boolean): string {
  const tags = [...(finding === undefined ? [] : [`finding ${finding}`]), ...(uwsLimit ? ['uWS 20.30 limit, pinned'] : [])];
  return tags.length === 0 ? name : `${name} [${tags.join('; ')}]`;
}

function storedBy(outcome: HttpOutcome): number {
  return 'status' in outcome ? (outcome.stored ?? 0) : 0;
}

async function httpCase(row: HttpRow, outcome: HttpOutcome, context: Context): Promise<void> {
  const bytes = row.request(context);
  const more = row.more?.(context);
  if ('noAnswer' in outcome) {
    const exchange = await rawHttp(context.port, bytes, { timeoutMs: outcome.noAnswer === 'held' ? HELD_MS : 5000, more, gapMs: 50 });
    expect(exchange.answers.map((answer) => answer.status), 'no answer').toEqual([]);
    expect(exchange.trailing.toString('latin1')).toBe('');
    expect(exchange.closed, outcome.noAnswer === 'held' ? 'held open' : 'closed at once').toBe(outcome.noAnswer === 'closed');
    return;
  }
  // HEAD answers are watched a while longer: a body after the head would arrive as trailing bytes.
  const exchange = await rawHttp(context.port, bytes, {
    answers: row.head ? 2 : (outcome.answers ?? 1),
    awaitClose: outcome.closed === true,
    head: row.head,
    timeoutMs: row.head ? HELD_MS : 5000,
    more,
    gapMs: 50,
  });
  checkAnswer(exchange, outcome);
}

function checkAnswer(exchange: RawExchange, outcome: Extract<HttpOutcome, { status: number }>): void {
  expect(exchange.answers.map((answer) => answer.status)).toEqual(Array.from({ length: outcome.answers ?? 1 }, () => outcome.status));
  const answer = exchange.answers[0]!;
  if (outcome.code !== undefined) expect((answer.json as { error?: { code?: string } } | undefined)?.error?.code).toBe(outcome.code);
  for (const [name, value] of Object.entries(outcome.headers ?? {})) {
    if (value === null) expect(answer.headers[name], `header ${name}`).toBeUndefined();
    else if (typeof value === 'string') expect(answer.headers[name], `header ${name}`).toBe(value);
    else expect(answer.headers[name], `header ${name}`).toMatch(value);
  }
  if (outcome.noBody) expect(exchange.trailing.toString('latin1'), 'bytes after a HEAD answer').toBe('');
  if (outcome.maxBodyBytes !== undefined) expect(answer.body.length).toBeLessThanOrEqual(outcome.maxBodyBytes);
  if (outcome.details) checkDetails(answer.json as { error: ErrorShape }, outcome.details);
  if (outcome.closed) expect(exchange.closed, 'the connection is closed after the answer').toBe(true);
}

interface ErrorShape {
  details?: unknown[];
  detailCount?: number;
}

function checkDetails(body: { error: ErrorShape }, expected: { max: number; count?: number }): void {
  expect(body.error.details?.length ?? 0).toBeLessThanOrEqual(expected.max);
  if (expected.count !== undefined) expect(body.error.detailCount).toBe(expected.count);
}

async function upgradeCase(row: UpgradeRow, outcome: HttpOutcome | { upgraded: true }, context: Context): Promise<void> {
  if ('noAnswer' in outcome) throw new Error('upgrade rows always expect an answer');
  const key = row.headers && 'sec-websocket-key' in row.headers ? row.headers['sec-websocket-key'] : 'dGhlIHNhbXBsZSBub25jZQ==';
  const headers = { host: '127.0.0.1', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': key, 'sec-websocket-version': '13', ...row.headers };
  const bytes = row.raw?.(context) ?? httpRequest(`GET ${row.path} HTTP/1.1`, Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
  if ('upgraded' in outcome) {
    const exchange = await rawHttp(context.port, bytes, { timeoutMs: 5000 });
    expect(exchange.answers.map((answer) => answer.status)).toEqual([101]);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    expect(exchange.answers[0]!.headers['sec-websocket-accept']).toBe(accept);
    expect(exchange.answers[0]!.headers['uwebsockets'], 'no banner on the upgrade').toBeUndefined();
    return;
  }
  checkAnswer(await rawHttp(context.port, bytes, { awaitClose: outcome.closed === true, timeoutMs: 5000 }), outcome);
}

async function wsCase(row: WsRow, outcome: WsOutcome, encoding: EncodingName, context: Context): Promise<void> {
  const opened = await RawWebSocket.open(context.port, `/v1/ws?encoding=${encoding}`);
  const ws = opened.ws!;
  try {
    await ws.waitForFrames(1);
    const frames = row.frames(encoding, context);
    if (Buffer.isBuffer(frames)) ws.sendBytes(frames);
    else for (const frame of frames) ws.send(frame);
    if ('silent' in outcome) {
      await new Promise((resolve) => setTimeout(resolve, HELD_MS));
      expect(ws.frames.length, 'no answer').toBe(1);
      expect(ws.ended, 'not closed').toBeUndefined();
      return;
    }
    if ('close' in outcome) {
      const ended = await ws.waitForEnd(5000);
      expect(ended.code, `closed with ${ended.code}`).toBe(outcome.close);
      expect(ended.closeFrame).toBe(outcome.close !== 1006);
      return;
    }
    if ('error' in outcome) {
      const [, frame] = await ws.waitForFrames(2);
      expect(frame, 'an error frame').toBeDefined();
      const error = decode(frame!.payload, frame!.opcode === OPCODE.binary) as { type: string; code: string; details?: unknown[]; detailCount?: number };
      expect(error.type).toBe('error');
      expect(error.code).toBe(outcome.error === 'bad_encoding' ? `bad_${encoding}` : outcome.error);
      if (outcome.maxFrameBytes !== undefined) expect(frame!.payload.length).toBeLessThanOrEqual(outcome.maxFrameBytes);
      if (outcome.details) checkDetails({ error }, outcome.details);
    }
    if ('pongs' in outcome && outcome.pongs !== undefined) {
      await waitFor(() => ws.frames.filter((frame) => frame.opcode === OPCODE.pong).length >= outcome.pongs! || ws.ended !== undefined, 5000, `${outcome.pongs} pongs`);
      expect(ws.frames.filter((frame) => frame.opcode === OPCODE.pong).length).toBe(outcome.pongs);
    }
    await stillUsable(ws, encoding);
  } finally {
    ws.destroy();
  }
}

/** The connection answers a ping frame of the protocol: it was not closed, nor left broken. */
async function stillUsable(ws: RawWebSocket, encoding: EncodingName): Promise<void> {
  ws.send(dataFrame(encoding, { op: 'ping', id: 'after' }));
  await waitFor(
    () => ws.ended !== undefined || ws.dataFrames().some((frame) => (decode(frame.payload, frame.opcode === OPCODE.binary) as { id?: unknown }).id === 'after'),
    5000,
    'the pong of a ping sent after the case',
  );
  expect(ws.ended, 'the connection stays open').toBeUndefined();
}

function decode(payload: Buffer, binary: boolean): unknown {
  return binary ? packr.unpack(payload) : JSON.parse(payload.toString());
}
