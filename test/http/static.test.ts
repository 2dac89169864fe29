import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStaticFiles } from '../../src/http/static.js';
import type { HttpRequest } from '../../src/protocol/http.js';
import { startTestNode } from '../support/sigcast.js';

/** The dashboard's files, from memory, under their exact names only (the build ran in globalSetup). */
const request = (method: string, path: string, headers: Record<string, string> = {}): HttpRequest => ({ method, path, query: new URLSearchParams(), headers, body: Buffer.alloc(0) });

describe('static files (pure)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigcast-static-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'not for you');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers / and the known names with their content type, ETag and caching headers', () => {
    const files = loadStaticFiles(dir);
    const index = files.answer(request('GET', '/'))!;
    expect(index.status).toBe(200);
    expect(String(index.body)).toContain('<title>t</title>');
    expect(index.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(index.headers!['content-security-policy']).toContain("connect-src 'self'");
    expect(files.answer(request('GET', '/index.html'))!.headers!['etag']).toBe(index.headers!['etag']);
    expect(files.answer(request('GET', '/app.js'))!.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8' });
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', () => {
    const files = loadStaticFiles(dir);
    const etag = files.answer(request('GET', '/app.js'))!.headers!['etag']!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) expect(files.answer(request('GET', '/app.js', { 'if-none-match': header }))!.status).toBe(304);
    expect(files.answer(request('GET', '/app.js', { 'if-none-match': '"other"' }))!.status).toBe(200);
    const head = files.answer(request('HEAD', '/app.js'))!;
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers!['etag']).toBe(etag);
  });

  it('refuses other methods with 405 and Allow', () => {
    const answer = loadStaticFiles(dir).answer(request('POST', '/'))!;
    expect(answer.status).toBe(405);
    expect(answer.headers).toMatchObject({ allow: 'GET, HEAD' });
    expect(JSON.parse(String(answer.body))).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('knows nothing but its own names: everything else goes on to the other routes', () => {
    const files = loadStaticFiles(dir);
    for (const path of ['/secret.txt', '/../secret.txt', '/%2e%2e/secret.txt', '/app.js/', '//app.js', '/APP.JS', '/index.htm', '/v1/signals']) {
      expect({ path, answer: files.answer(request('GET', path)) }).toEqual({ path, answer: undefined });
    }
  });

  it('says the dashboard is not built when its files are missing', () => {
    const answer = loadStaticFiles(join(dir, 'nowhere')).answer(request('GET', '/'))!;
    expect(answer.status).toBe(404);
    expect(JSON.parse(String(answer.body)).error.message).toContain('npm run build:dashboard');
    expect(loadStaticFiles(dir).answer(request('GET', '/style.css'))!.status).toBe(404);
  });
});

describe.each(['uws', 'ws'] as const)('the dashboard served by a node (%s)', (transport) => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  beforeAll(async () => {
    node = await startTestNode({ TRANSPORT: transport });
  });
  afterAll(() => node?.stop());

  it('serves the built page, script and stylesheet', async () => {
    const page = await fetch(`${node.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    const script = await fetch(`${node.baseUrl}/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(1000);
    const etag = script.headers.get('etag')!;
    expect((await fetch(`${node.baseUrl}/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${node.baseUrl}/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${node.baseUrl}/`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${node.baseUrl}/healthz`)).status).toBe(200);
  });

  it('never answers a path outside its names with a file', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/dist/dashboard/app.js', '/package.json']) {
      const raw = await rawGet(node.port, path);
      expect({ path, status: raw.split(' ')[1] }).toEqual({ path, status: '404' });
      expect(raw).not.toContain('"name": "sigcast"');
    }
  });
});

/** A GET with the path exactly as given (fetch would normalize the dots away). */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
