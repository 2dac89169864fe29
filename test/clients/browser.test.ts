import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSignals, signal, startTestNode } from '../support/sigcast.js';

/**
 * The client library in a real browser: bundled for the browser with esbuild, loaded by a page
 * in headless Chromium, subscribed to a real sigcast node; the test publishes over HTTP.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

/** What the page keeps on `globalThis` for the test to read. */
interface PageState {
  received: Array<{ seq: number; side: string }>;
  lives: number;
  publish(symbol: string): Promise<Array<{ channel: string; seq: number }>>;
}

// The page: connects with the encoding and channel from its query string, and records entries.
const PAGE = `<!doctype html><meta charset="utf-8"><title>sigcast client</title>
<script type="module">
  import { connect } from './sigcast-client.js';
  const query = new URLSearchParams(location.search);
  const channel = query.get('channel');
  const client = connect(query.get('ws'), { encoding: query.get('encoding') });
  Object.assign(globalThis, { received: [], lives: 0, publish: (symbol) => client.publish({ symbol, side: 'HOLD', strength: 1, channels: [channel] }) });
  client.subscribe(channel, { last: 100, onLive: () => (globalThis.lives += 1) }, (entry) => globalThis.received.push({ seq: entry.seq, side: entry.signal.side }));
</script>`;

describe.skipIf(!hasChromium)(`client library in headless Chromium${hasChromium ? '' : ` (SKIPPED: ${CHROMIUM} is not installed)`}`, () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let pages: Server;
  let pagesUrl: string;
  let context: BrowserContext;
  let workDir: string;
  let bundleBytes = 0;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'sigcast-browser-'));
    const bundle = join(workDir, 'sigcast-client.js');
    const result = await build({
      entryPoints: [join(import.meta.dirname, '../../clients/sigcast-client.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: bundle,
      metafile: true,
      logLevel: 'silent',
    });
    // Type-only imports of the server's schemas keep zod (and the server) out of the browser bundle;
    // the one file of src/ it takes is the dependency-free msgpack configuration it shares with the server.
    expect(Object.keys(result.metafile.inputs).filter((input) => /zod|src\//.test(input))).toEqual(['src/protocol/msgpack-options.ts']);
    const script = readFileSync(bundle);
    bundleBytes = script.length;
    pages = createServer((request, response) => {
      const isScript = request.url?.startsWith('/sigcast-client.js') ?? false;
      response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' });
      response.end(isScript ? script : PAGE);
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`;
    // The page is served from another origin than the node's: it must be allowed, as any such page.
    node = await startTestNode({ ALLOWED_ORIGINS: new URL(pagesUrl).origin });
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await context?.close();
    await node?.stop();
    await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('bundles small enough for a trading UI', () => {
    expect(bundleBytes).toBeGreaterThan(0);
    expect(bundleBytes).toBeLessThan(150_000);
  });

  it.each(['json', 'msgpack'] as const)('replays, then receives live signals in order over %s, and publishes with an ack', async (encoding) => {
    const channel = `browser.${encoding}`;
    await postSignals(node.baseUrl, [signal('BTCUSDT', { channels: [channel] }), signal('BTCUSDT', { channels: [channel] })]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${pagesUrl}?${new URLSearchParams({ ws: node.wsUrl, encoding, channel })}`);
    await page.waitForFunction(() => (globalThis as unknown as PageState).lives === 1);

    for (let batch = 0; batch < 4; batch += 1) {
      const sides = ['BUY', 'SELL', 'CLOSE'].map((side) => signal('BTCUSDT', { side, channels: [channel] }));
      expect((await postSignals(node.baseUrl, sides)).status).toBe(200);
    }
    await page.waitForFunction(() => (globalThis as unknown as PageState).received.length === 14);
    const acks = await page.evaluate(() => (globalThis as unknown as PageState).publish('ETHUSDT'));
    expect(acks).toMatchObject([{ channel, seq: 15 }]);
    await page.waitForFunction(() => (globalThis as unknown as PageState).received.length === 15);

    const received = await page.evaluate(() => (globalThis as unknown as PageState).received);
    expect(received.map((entry) => entry.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(received.slice(2, 5).map((entry) => entry.side)).toEqual(['BUY', 'SELL', 'CLOSE']);
    expect(errors).toEqual([]);
    await page.close();
  });
});
