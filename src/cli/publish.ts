// `sigcast publish`: one signal from flags, or JSON lines on stdin, through the batching publisher
// client (so a pipe of 100,000 lines goes in a few hundred requests). Prints each stored seq, in
// input order.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { createPublisher, type PublishResult } from '../../clients/publisher.js';
import type { SigcastClientError } from '../../clients/sigcast-client.js';
import { PublishItemSchema, SIDES, type PublishItem } from '../signal/schema.js';
import { DEFAULT_URL, httpUrl, numberFlag, parseFlags, UsageError, webSocketUrl } from './args.js';
import type { CommandIo } from './io.js';
import { LineWriter } from './output.js';

export const PUBLISH_USAGE = `usage: sigcast publish --symbol S --side SIDE --strength X [--price P] [--strategy NAME] [--channel C ...]
       <json-lines> | sigcast publish [--json] [--url URL] [--token T]

Publishes one signal given by flags, or, without --symbol, one JSON signal per line of stdin
(e.g. {"symbol":"BTCUSDT","side":"BUY","strength":0.8}). Signals are batched, given an
idempotency id and retried when the server is unavailable, so none is stored twice. Prints each
stored signal as channel#seq (one per target channel), in input order; problems go to stderr
with their line number. Exits 0 when every signal was stored, 1 otherwise, 130 when interrupted.

Signal flags:
  --symbol S         e.g. BTCUSDT (also the default channel)
  --side SIDE        ${SIDES.join(', ')}
  --strength X       0..1
  --price P          positive number
  --strategy NAME    e.g. momentum
  --channel C        a target channel (repeat for several; default: the symbol)
  --id ID            idempotency key (default: a fresh ULID)
  --ts MS            signal time in ms since the epoch (default: the server's time)
  --meta KEY=VALUE   extra field (repeat; numbers, true, false and null are typed)

Options:
  --json             print each stored signal as a JSON line instead of channel#seq
  --transport T      http (default: POST /v1/signals) or ws (publish frames on a WebSocket)
  --batch N          most signals per request (default 500)
  --linger MS        how long a signal waits for others to share its request (default 5)
  --retry-for MS     how long a request is retried while the server is unavailable (default 60000)
  --url URL          the server: http(s)://host:port or ws(s)://host:port (default ${DEFAULT_URL})
  --token T          API key or JWT, for a server with auth
  -h, --help         this text`;

const FLAGS = {
  symbol: { type: 'string' },
  side: { type: 'string' },
  strength: { type: 'string' },
  price: { type: 'string' },
  strategy: { type: 'string' },
  channel: { type: 'string', multiple: true },
  id: { type: 'string' },
  ts: { type: 'string' },
  meta: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  transport: { type: 'string' },
  batch: { type: 'string' },
  linger: { type: 'string' },
  'retry-for': { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];
const SIGNAL_FLAGS = ['side', 'strength', 'price', 'strategy', 'channel', 'id', 'ts', 'meta'] as const;

export async function runPublish(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(args, FLAGS, false);
  if (values.help) {
    io.stdout.write(`${PUBLISH_USAGE}\n`);
    return 0;
  }
  const fromFlags = values.symbol !== undefined ? signalFromFlags(values) : undefined;
  if (!fromFlags) {
    const stray = SIGNAL_FLAGS.find((name) => values[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --symbol (or give signals as JSON lines on stdin)`);
    if (io.stdin.isTTY) throw new UsageError('give a signal with --symbol --side --strength, or pipe JSON lines to stdin');
  }
  const transport = values.transport ?? 'http';
  if (transport !== 'http' && transport !== 'ws') throw new UsageError(`--transport must be http or ws, not ${JSON.stringify(transport)}`);
  const url = values.url ?? DEFAULT_URL;
  const publisher = createPublisher({
    url: transport === 'http' ? httpUrl(url) : webSocketUrl(url),
    WebSocket,
    ...(values.token ? { token: values.token } : {}),
    ...(values.batch ? { maxBatch: numberFlag('batch', values.batch, { min: 1, max: 10_000, integer: true })! } : {}),
    ...(values.linger ? { lingerMs: numberFlag('linger', values.linger, { min: 0, max: 60_000 })! } : {}),
    ...(values['retry-for'] ? { retry: { retryForMs: numberFlag('retry-for', values['retry-for'], { min: 0 })! } } : {}),
  });

  const out = new LineWriter(io.stdout);
  const problem = (where: string, message: string) => io.stderr.write(`sigcast publish: ${where}${message}\n`);
  let failed = 0;
  let printing: Promise<void> = Promise.resolve();
  // Results print in input order: each waits for the one before it. The outcome is taken at once,
  // so a failure is never an unhandled rejection while earlier lines are still printing.
  const track = (result: Promise<PublishResult>, where: string) => {
    const outcome = result.then(
      (stored) => () => out.line(values.json ? resultJson(stored) : stored.entries.map((entry) => `${entry.channel}#${entry.seq}`).join(' ')),
      (error: SigcastClientError) => () => {
        failed += 1;
        problem(where, `not stored: ${error.code}: ${error.message}`);
      },
    );
    printing = printing.then(() => outcome.then((print) => print()));
  };

  let interrupted = false;
  let total = 0;
  if (fromFlags) {
    total = 1;
    track(publisher.publish(fromFlags), '');
  } else {
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
    io.onStop(() => {
      interrupted = true;
      lines.close();
    });
    let number = 0;
    for await (const line of lines) {
      number += 1;
      if (interrupted) break;
      if (line.trim() === '') continue;
      total += 1;
      const item = signalFromLine(line);
      if (typeof item === 'string') {
        failed += 1;
        problem(`line ${number}: `, item);
        continue;
      }
      await publisher.waitForRoom();
      track(publisher.publish(item), `line ${number}: `);
    }
  }
  await publisher.close();
  await printing;
  await out.end();
  if (!fromFlags) {
    const { requests, retries } = publisher.stats;
    problem('', `${total - failed} of ${total} signals stored in ${requests} requests (${retries} retries)${interrupted ? ', interrupted' : ''}`);
  }
  return interrupted ? 130 : failed > 0 ? 1 : 0;
}

function signalFromFlags(values: Values): PublishItem {
  const meta = values.meta?.length ? Object.fromEntries(values.meta.map(metaPair)) : undefined;
  const candidate = {
    symbol: values.symbol,
    side: values.side,
    strength: numberFlag('strength', values.strength),
    ...(values.price !== undefined ? { price: numberFlag('price', values.price) } : {}),
    ...(values.strategy !== undefined ? { strategy: values.strategy } : {}),
    ...(values.channel?.length ? { channels: values.channel } : {}),
    ...(values.id !== undefined ? { id: values.id } : {}),
    ...(values.ts !== undefined ? { ts: numberFlag('ts', values.ts, { min: 0, integer: true }) } : {}),
    ...(meta ? { meta } : {}),
  };
  const parsed = PublishItemSchema.safeParse(candidate);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => `--${flagName(issue.path)}: ${issue.message}`).join('; '));
  return parsed.data;
}

/** The signal of one stdin line, or what is wrong with it. */
function signalFromLine(line: string): PublishItem | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const parsed = PublishItemSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  return `invalid signal: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(signal)'}: ${issue.message}`).join('; ')}`;
}

function metaPair(pair: string): [string, string | number | boolean | null] {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UsageError(`--meta takes KEY=VALUE, not ${JSON.stringify(pair)}`);
  const raw = pair.slice(at + 1);
  const typed = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return [pair.slice(0, at), typed];
}

function flagName(path: readonly PropertyKey[]): string {
  const [first] = path;
  return first === 'channels' ? 'channel' : String(first ?? 'symbol');
}

function resultJson(result: PublishResult): string {
  const { channel, seq, epoch, id, duplicate, entries } = result;
  return JSON.stringify({ id, channel, seq, epoch, duplicate, ...(entries.length > 1 ? { entries } : {}) });
}
