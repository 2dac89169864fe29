import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CLOSE, ERRORS, type ErrorCode } from '../../src/errors.js';
import { WS_PATH } from '../../src/node.js';
import { CLIENT_OPS, ClientFrameSchema, SERVER_TYPES, ServerFrameSchema } from '../../src/protocol/frames.js';
import { SUBPROTOCOLS } from '../../src/transport/negotiate.js';
import { TOKEN_SUBPROTOCOL_PREFIX } from '../../src/auth/request-token.js';

/**
 * docs/protocol.md against the schemas it documents: every frame, error code and close code
 * is there, and every example frame in it is one the schemas accept.
 */
const DOC = readFileSync(join(import.meta.dirname, '../../docs/protocol.md'), 'utf8');

interface Example {
  line: number;
  value: unknown;
}

/** Every value of the ```json blocks (one JSON value each) and ```jsonl blocks (one per line). */
function examples(markdown: string): Example[] {
  const found: Example[] = [];
  const fence = /^```(jsonl?)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const startLine = markdown.slice(0, match.index).split('\n').length + 1;
    const body = match[2]!;
    if (match[1] === 'json') {
      found.push({ line: startLine, value: parseAt(body, startLine) });
      continue;
    }
    body.split('\n').forEach((text, offset) => {
      if (text.trim() !== '') found.push({ line: startLine + offset, value: parseAt(text, startLine + offset) });
    });
  }
  return found;
}

function parseAt(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`docs/protocol.md line ${line}: not valid JSON: ${String(error)}`);
  }
}

const field = (value: unknown, name: 'op' | 'type'): unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;

const headings = DOC.split('\n').filter((line) => line.startsWith('#'));
const all = examples(DOC);

/** Cells of the markdown table rows whose first cell matches. */
function rowStartingWith(firstCell: string): string[] | undefined {
  const row = DOC.split('\n').find((line) => line.startsWith(`| ${firstCell} |`));
  return row?.split('|').slice(1, -1).map((cell) => cell.trim());
}

describe('docs/protocol.md', () => {
  it('has examples, and every one of them is valid JSON', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it.each(CLIENT_OPS)('documents the client op %s with a heading and an example', (op) => {
    expect(headings).toContain(`### \`${op}\``);
    expect(all.some((example) => field(example.value, 'op') === op)).toBe(true);
  });

  it.each(SERVER_TYPES)('documents the server frame %s with a heading and an example', (type) => {
    expect(headings).toContain(`### \`${type}\``);
    expect(all.some((example) => field(example.value, 'type') === type)).toBe(true);
  });

  it('shows only frames the schemas accept', () => {
    const rejected: string[] = [];
    for (const { line, value } of all) {
      const schema = field(value, 'op') !== undefined ? ClientFrameSchema : field(value, 'type') !== undefined ? ServerFrameSchema : undefined;
      const result = schema?.safeParse(value);
      if (result && !result.success) rejected.push(`line ${line}: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    expect(rejected).toEqual([]);
  });

  it.each(Object.keys(ERRORS) as ErrorCode[])('lists the error code %s with its HTTP status', (code) => {
    expect(rowStartingWith(`\`${code}\``)?.[1]).toBe(String(ERRORS[code].status));
  });

  it('lists no error code that the catalog does not have', () => {
    const section = DOC.slice(DOC.indexOf('## Error codes'), DOC.indexOf('## Close codes'));
    const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it.each(Object.entries(CLOSE))('lists the close code %s with its code and reason', (_name, close) => {
    // One code may close for several reasons (4008: slow consumer, lagging): a row per reason.
    const rows = DOC.split('\n').filter((line) => line.startsWith(`| ${close.code} |`));
    expect(rows.map((row) => row.split('|')[2]?.trim())).toContain(`\`${close.reason}\``);
  });

  it('lists the close code 1006 that heartbeat drops and hard caps produce', () => {
    expect(rowStartingWith('1006')).toBeDefined();
  });

  it('names the endpoints, encodings and subprotocols', () => {
    for (const text of [WS_PATH, 'POST /v1/signals', 'GET /v1/channels/:channel/history', '/healthz', '/readyz', '/metrics', 'encoding=json', 'encoding=msgpack']) {
      expect(DOC).toContain(text);
    }
    for (const protocol of Object.keys(SUBPROTOCOLS)) expect(DOC).toContain(protocol);
    expect(DOC).toContain(`${TOKEN_SUBPROTOCOL_PREFIX}<token>`);
  });

  it('states the limits with their configured defaults', () => {
    const defaults = loadConfig({});
    const limits = ['MAX_FRAME_BYTES', 'MAX_SUBSCRIPTIONS', 'MAX_BATCH', 'MAX_BODY_BYTES', 'SEND_BUFFER_BYTES', 'HEARTBEAT_SECONDS', 'MAX_LAG_MS'] as const;
    const resources = [
      'SEND_BUDGET_BYTES',
      'MAX_CHANNELS',
      'SUBSCRIBE_CONCURRENCY',
      'SUBSCRIBE_CONCURRENCY_PER_CONNECTION',
      'SUBSCRIBE_QUEUE',
      'MAX_CHANNELS_PER_SIGNAL',
      'MAX_SIGNAL_BYTES',
      'NEW_CHANNELS_PER_MINUTE',
    ] as const;
    const security = ['PUBLISH_BURST', 'MAX_CONNECTIONS', 'AUTH_FAILURE_BURST', 'AUTH_JWT_CLOCK_TOLERANCE_SECONDS'] as const;
    for (const name of [...limits, ...security, ...resources]) {
      expect(DOC).toContain(`\`${name}\` (${defaults[name]})`);
    }
  });
});
