import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../clients/publisher.js';
import type { PageCounters } from '../../dashboard/src/counters.js';
import { postSignals, startTestNode, TestClient } from '../support/sigcast.js';
import { delay, waitFor } from '../support/wait.js';

/**
 * The dashboard as a trader opens it: served by a real node at /, in headless Chromium, fed by
 * the server over its own client. The page was built from the sources in globalSetup.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

// The page's globals, for the functions that run in it (type-only: this file runs in Node).
declare const window: { __sigcast: PageCounters };
interface Cell {
  textContent: string | null;
  className: string;
}
interface TableRow {
  cells: ArrayLike<Cell> & Iterable<Cell>;
  classList: { contains(name: string): boolean };
  querySelector(selector: string): { style: { width: string } } | null;
}
const counters = (page: Page) => page.evaluate(() => window.__sigcast);

/** The table as the user sees it, top row first. */
const tableRows = (page: Page) =>
  page.$$eval('#signals tbody tr', (rows) =>
    (rows as unknown as TableRow[]).map((row) => {
      const cells = [...row.cells].map((cell) => cell.textContent ?? '');
      return { channel: cells[1], symbol: cells[2], side: cells[3], sideClass: row.cells[3]!.className, strength: cells[4], bar: row.querySelector('.bar > span')!.style.width, price: cells[5], strategy: cells[6], seq: Number(cells[7]), replayed: row.classList.contains('replayed') };
    }),
  );

const SEED = [
  { symbol: 'BTCUSDT', side: 'BUY', strength: 0.82, price: 64250.5, strategy: 'momentum' },
  { symbol: 'ETHUSDT', side: 'SELL', strength: 0.35, price: 3120.4, strategy: 'mean-reversion' },
  { symbol: 'BTCUSDT', side: 'HOLD', strength: 0.5, price: 64262, strategy: 'momentum' },
  { symbol: 'SOLUSDT', side: 'BUY', strength: 0.67, price: 151.22, strategy: 'breakout' },
  { symbol: 'ETHUSDT', side: 'CLOSE', strength: 1, price: 3118.9, strategy: 'mean-reversion' },
  { symbol: 'BTCUSDT', side: 'SELL', strength: 0.44, price: 64198.25, strategy: 'funding-arb' },
  { symbol: 'SOLUSDT', side: 'SELL', strength: 0.91, price: 150.87, strategy: 'breakout' },
  { symbol: 'BTCUSDT', side: 'BUY', strength: 0.73, price: 64301, strategy: 'momentum' },
] as const;

describe.skipIf(!hasChromium)(`dashboard in headless Chromium${hasChromium ? '' : ` (SKIPPED: ${CHROMIUM} is not installed)`}`, () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'sigcast-dashboard-'));
    node = await startTestNode();
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await context?.close();
    await node?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** A fresh page with a record of script errors and CSP violations (the console reports both). */
  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(`${node.baseUrl}/?${query}`);
    return { page, errors };
  }

  it('shows the replay, then a live signal; switches conflation on; reconnects with a token; and is captured', { timeout: 60_000 }, async () => {
    expect((await postSignals(node.baseUrl, SEED)).status).toBe(200);
    const { page, errors } = await open('channels=BTCUSDT,ETHUSDT,SOLUSDT&last=50');
    await page.waitForFunction(() => window.__sigcast?.rendered === 8 && window.__sigcast.connection.status === 'live');

    const replayed = await tableRows(page);
    expect(replayed.map((row) => `${row.channel}#${row.seq}`)).toHaveLength(8);
    expect(replayed.every((row) => row.replayed)).toBe(true);
    const btcBuy = replayed.find((row) => row.channel === 'BTCUSDT' && row.seq === 1)!;
    expect(btcBuy).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', sideClass: 'side side-buy', strength: '0.82', bar: '82%', price: '64250.5', strategy: 'momentum' });
    expect(replayed.find((row) => row.side === 'CLOSE')!.sideClass).toBe('side side-close');
    expect(await page.textContent('#connection')).toBe('live');

    // A live signal, published during the test, lands on top and is not marked as replayed.
    await postSignals(node.baseUrl, { symbol: 'BTCUSDT', side: 'SELL', strength: 0.58, price: 64120.75, strategy: 'momentum' });
    await page.waitForFunction(() => window.__sigcast.rendered === 9);
    expect((await tableRows(page))[0]).toMatchObject({ channel: 'BTCUSDT', seq: 5, side: 'SELL', sideClass: 'side side-sell', replayed: false });

    // Conflation on: what the dashboard must show is what the server itself answers to it.
    const probe = await TestClient.connect(node.wsUrl);
    const answer = await probe.request({ op: 'subscribe', id: 'probe', channel: 'BTCUSDT', conflate: 100 });
    await probe.close();
    await page.selectOption('#conflate', '100');
    if (answer.type === 'error') {
      // Today's server has no conflation: the refusal is shown plainly, and every signal keeps coming.
      await page.waitForFunction(() => window.__sigcast.conflation.refusal !== undefined);
      const problems = await page.textContent('#problems');
      expect(problems).toContain('the server refused conflate=100 ms');
      expect(problems).toContain(`${answer.code}: ${answer.message}`);
      expect(await page.isVisible('#problems')).toBe(true);
      expect(await page.textContent('#conflate-status')).toBe('refused by the server: showing every signal');
    } else {
      await page.waitForFunction(() => window.__sigcast.conflation.requestedMs === 100);
      expect((await counters(page)).problems).toEqual([]);
    }
    await postSignals(node.baseUrl, { symbol: 'ETHUSDT', side: 'BUY', strength: 0.76, price: 3125.1, strategy: 'mean-reversion' });
    await page.waitForFunction(() => window.__sigcast.rendered === 10);
    expect((await tableRows(page))[0]).toMatchObject({ channel: 'ETHUSDT', seq: 3, replayed: false });

    // A token makes the page reconnect (visible in the connection state); it resumes with no gap and no duplicate.
    await page.fill('#token', 'dashboard-token');
    await page.click('#token-form button');
    await page.waitForFunction(() => window.__sigcast.connection.reconnects === 1 && window.__sigcast.connection.status === 'live');
    expect(await page.textContent('#connection-detail')).toMatch(/1 reconnect\b/);
    await postSignals(node.baseUrl, { symbol: 'SOLUSDT', side: 'HOLD', strength: 0.25, price: 151.05, strategy: 'breakout' });
    await page.waitForFunction(() => window.__sigcast.rendered === 11);
    const rows = await tableRows(page);
    expect(new Set(rows.map((row) => `${row.channel}#${row.seq}`)).size).toBe(11);

    // Per-channel stats (redrawn once a second): every channel with its last seq.
    const statsTable = () => page.$$eval('#channel-stats tbody tr', (trs) => (trs as unknown as TableRow[]).map((tr) => [...tr.cells].map((cell) => cell.textContent)));
    const lastSeqs = async () => (await statsTable()).map((row) => `${row[0]}#${row[4]}`).sort().join(' ');
    await waitFor(async () => (await lastSeqs()) === 'BTCUSDT#5 ETHUSDT#3 SOLUSDT#3', 5_000, 'the stats table');
    expect((await statsTable()).every((row) => /^\d+(\.\d)? *$/.test(row[1]!))).toBe(true);

    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps up with 1,000 signals/s for 5 s: no growing backlog, bounded frame time, bounded rows', { timeout: 90_000 }, async () => {
    const channel = 'load.btc';
    const { page, errors } = await open(`channels=${channel}&last=0`);
    await page.waitForFunction(() => window.__sigcast?.connection.status === 'live');
    await delay(200); // the subscription is in place once its `live` arrived; give it a moment

    const publisher = createPublisher({ url: node.baseUrl, lingerMs: 5 });
    const samples: Array<{ at: number; backlog: number; received: number }> = [];
    const started = Date.now();
    const total = 5_000;
    let sent = 0;
    const sampling = (async () => {
      while (Date.now() - started < 5_500) {
        const now = await counters(page);
        samples.push({ at: Date.now() - started, backlog: now.backlog, received: now.received });
        await delay(250);
      }
    })();
    const published: Array<Promise<unknown>> = [];
    while (sent < total) {
      // Paced by the clock: what is due by now goes out (the timer may fire late under load).
      const due = Math.min(total, Math.floor((Date.now() - started) * 1.0));
      for (; sent < due; sent += 1) published.push(publisher.publish({ symbol: 'BTCUSDT', side: sent % 3 === 0 ? 'SELL' : 'BUY', strength: (sent % 100) / 100, price: 64_000 + (sent % 500), strategy: 'load', channels: [channel] }));
      await delay(10);
    }
    await Promise.all(published);
    await publisher.close();
    const publishMs = Date.now() - started;
    await sampling;
    await waitFor(async () => (await counters(page)).received === total, 20_000, 'every signal at the page');
    await waitFor(async () => (await counters(page)).backlog === 0, 5_000, 'the last frame');
    const final = await counters(page);
    await page.close();

    const late = samples.filter((sample) => sample.at >= 2_500).map((sample) => sample.backlog).sort((a, b) => a - b);
    writeFileSync(join(ARTIFACTS, 'dashboard-load.json'), `${JSON.stringify({ publishMs, final, samples }, null, 2)}\n`);

    expect(final.received).toBe(total);
    expect(final.rendered + final.dropped).toBe(final.received);
    expect(final.dropped).toBeLessThanOrEqual(total * 0.05);
    expect(final.rows).toBe(500);
    // No growing backlog: in the second half of the stream a frame typically finds well under half a second of signals waiting.
    expect(late[Math.floor(late.length / 2)] ?? 0).toBeLessThan(500);
    expect(final.maxBacklog).toBeLessThan(1_000);
    // Frame time bounded (generous: the machine is shared); the page drew many frames, not a few big ones.
    expect(final.frames.p95Ms).toBeLessThan(50);
    expect(final.frames.maxMs).toBeLessThan(500);
    expect(final.frames.frames).toBeGreaterThan(25);
    expect(errors).toEqual([]);
  });
});
