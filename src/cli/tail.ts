// `sigcast tail <channel...>`: prints signals as they arrive, through the project's own client,
// which reconnects and resumes from the last printed seq after any disconnect.
import WebSocket from 'ws';
import { connect, type SigcastClientError } from '../../clients/sigcast-client.js';
import { CHANNEL_NAME_PATTERN } from '../signal/schema.js';
import { DEFAULT_URL, numberFlag, parseFlags, UsageError, webSocketUrl } from './args.js';
import { entryJson, formatEntry } from './format.js';
import { LineWriter } from './output.js';
import type { CommandIo } from './io.js';

export const TAIL_USAGE = `usage: sigcast tail <channel...> [--since N [--epoch E] | --last N] [--json] [--url URL] [--token T]

Prints the signals of one or more channels as they arrive, first the replay the position asks
for, then live. After a disconnect it reconnects by itself and resumes from the last seq it
printed (nothing twice, nothing missed while the history holds it). Ctrl-C exits with status 0.
Connection changes and resets are reported on stderr; stdout carries only signals.

Options:
  --since N       start after seq N (resume a position); each channel starts there
  --epoch E       with --since: the epoch N belongs to (a reset is reported when it changed)
  --last N        start with the newest N entries of each channel (0..1000); default: live only
  --conflate MS   ask for a conflated feed: the newest entry per MS ms (servers with conflation)
  --json          one JSON entry per line: {"channel","seq","epoch","ts","signal"}
  --encoding E    json (default) or msgpack on the wire
  --url URL       the server: http(s)://host:port or ws(s)://host:port[/v1/ws] (default ${DEFAULT_URL})
  --token T       API key or JWT, for a server with auth
  -h, --help      this text`;

const FLAGS = {
  since: { type: 'string' },
  epoch: { type: 'string' },
  last: { type: 'string' },
  conflate: { type: 'string' },
  json: { type: 'boolean' },
  encoding: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runTail(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, true);
  if (values.help) {
    io.stdout.write(`${TAIL_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one channel');
  const bad = positionals.find((channel) => !CHANNEL_NAME_PATTERN.test(channel));
  if (bad !== undefined) throw new UsageError(`invalid channel ${JSON.stringify(bad)}: 1-64 chars of A-Z a-z 0-9 . _ : -, starting with a letter or digit`);
  const since = numberFlag('since', values.since, { min: 0, integer: true });
  const last = numberFlag('last', values.last, { min: 0, max: 1000, integer: true });
  const conflate = numberFlag('conflate', values.conflate, { min: 1, integer: true });
  if (since !== undefined && last !== undefined) throw new UsageError('give --since or --last, not both');
  if (values.epoch !== undefined && since === undefined) throw new UsageError('--epoch needs --since');
  const encoding = values.encoding ?? 'json';
  if (encoding !== 'json' && encoding !== 'msgpack') throw new UsageError(`--encoding must be json or msgpack, not ${JSON.stringify(encoding)}`);
  const url = webSocketUrl(values.url ?? DEFAULT_URL);

  const out = new LineWriter(io.stdout);
  const note = (message: string) => io.stderr.write(`sigcast tail: ${message}\n`);
  const colour = !values.json && io.stdout.isTTY === true;
  const client = connect(url, { WebSocket, encoding, ...(values.token ? { token: values.token } : {}) });
  client.on('open', (welcome) => note(`connected to ${url} (node ${welcome.node})`));
  client.on('close', ({ code, reason, reconnectInMs }) => {
    if (reconnectInMs !== undefined) note(`disconnected (${code}${reason ? ` ${reason}` : ''}), reconnecting in ${reconnectInMs} ms`);
  });
  client.on('error', (error) => {
    if (error.code === 'socket_error') return; // the close that follows says it
    if (error.channel === undefined) note(`${error.code}: ${error.message}`);
  });

  const channels = [...new Set(positionals)];
  let active = channels.length;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  for (const channel of channels) {
    const position = { ...(since !== undefined ? { since } : {}), ...(values.epoch ? { epoch: values.epoch } : {}), ...(last !== undefined ? { last } : {}) };
    client.subscribe(
      channel,
      {
        ...position,
        ...(conflate !== undefined ? { conflate } : {}),
        onLive: (live) => note(`${channel}: live at seq ${live.seq}`),
        onReset: (reset) => note(`${channel}: reset (${reset.reason}): the history continues at seq ${reset.fromSeq} of epoch ${reset.epoch}`),
        onError: (error: SigcastClientError) => {
          note(`${channel}: refused by the server: ${error.code}: ${error.message}`);
          if (--active === 0) finish(1);
        },
      },
      (entry) => out.line(values.json ? entryJson(entry) : formatEntry(entry, { colour })),
    );
  }

  io.onStop(() => finish(0));
  const code = await finished;
  await client.close();
  await out.end();
  return code;
}
