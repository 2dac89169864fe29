import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { anonymousScopes } from '../../src/wiring.js';
import { makeAuthKeys, type AuthKeys } from '../support/auth-keys.js';
import { configProblems as problems } from '../support/config-problems.js';
import { rawRequest } from '../support/http-raw.js';
import { postSignals, signal, startTestNode, TestClient } from '../support/sigcast.js';

/** The anonymous and loopback rules, and every security variable's checks, at start. */
let keys: AuthKeys;
beforeAll(async () => {
  keys = await makeAuthKeys({ bot: 'publish:*' });
});
afterAll(() => keys?.cleanup());

describe('security configuration', () => {
  it('refuses a non-loopback HOST without auth unless ALLOW_ANONYMOUS=true, naming HOST', () => {
    expect(problems({ HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/^HOST="0\.0\.0\.0": is not loopback and no auth is configured/)]);
    expect(problems({ HOST: '10.1.2.3', ALLOW_ANONYMOUS: 'true' })).toEqual([]);
    expect(problems({ HOST: '0.0.0.0', AUTH_API_KEYS_FILE: keys.apiKeysFile })).toEqual([]);
    for (const host of ['127.0.0.1', '::1', 'localhost', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(problems({ HOST: host })).toEqual([]);
  });

  it('checks ALLOWED_ORIGINS, the secret and the token lengths, and the rates', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://App.Example.com, http://localhost:3000' }).ALLOWED_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(loadConfig({ ALLOWED_ORIGINS: '*' }).ALLOWED_ORIGINS).toBe('any');
    expect(loadConfig({}).ALLOWED_ORIGINS).toBeUndefined();
    expect(problems({ ALLOWED_ORIGINS: 'https://a.example/path' })[0]).toMatch(/^ALLOWED_ORIGINS=.*is not an origin/);
    expect(problems({ AUTH_JWT_SECRET: 'short' })[0]).toMatch(/^AUTH_JWT_SECRET=.*at least 32/);
    expect(problems({ METRICS_TOKEN: 'short' })[0]).toMatch(/^METRICS_TOKEN=/);
    expect(problems({ PUBLISH_RATE: '-1' })[0]).toMatch(/^PUBLISH_RATE=/);
    expect(loadConfig({})).toMatchObject({ PUBLISH_RATE: 0, PUBLISH_BURST: 1000, MAX_CONNECTIONS: 100_000, MAX_CONNECTIONS_PER_IP: 0, TRUST_PROXY: false, ALLOW_ANONYMOUS: false });
  });

  it('anonymous scopes: ANONYMOUS_SCOPE when set, else everything without auth and nothing with it', () => {
    expect(anonymousScopes(loadConfig({}))).toEqual({ publish: ['*'], subscribe: ['*'] });
    expect(anonymousScopes(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) }))).toBeUndefined();
    expect(anonymousScopes(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), ANONYMOUS_SCOPE: 'subscribe:*' }))).toEqual({ publish: [], subscribe: ['*'] });
    expect(() => anonymousScopes(loadConfig({ ANONYMOUS_SCOPE: 'read:*' }))).toThrow(/ANONYMOUS_SCOPE="read:\*"/);
  });

  it('a node does not start on an unusable key file, and says which variable', async () => {
    const bad = join(keys.dir, 'broken.json');
    writeFileSync(bad, '[{"name":"x","sha256":"nothex","scope":"publish:*"}]');
    await expect(startTestNode({ AUTH_API_KEYS_FILE: bad })).rejects.toThrow(/AUTH_API_KEYS_FILE=".*broken\.json": must be a JSON array/);
    await expect(startTestNode({ AUTH_JWT_JWKS_FILE: join(keys.dir, 'absent.json') })).rejects.toThrow(/AUTH_JWT_JWKS_FILE=.*cannot be read/);
  });

  it('with ALLOW_ANONYMOUS on a non-loopback HOST everyone may do everything, and no Host check applies', async () => {
    const node = await startTestNode({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true', TRANSPORT: 'ws' });
    try {
      expect((await postSignals(node.baseUrl, signal('ANON'))).status).toBe(200);
      const client = await TestClient.connect(node.wsUrl, { headers: { host: 'sigcast.example.com' } });
      expect(client.frames[0]).toMatchObject({ principal: 'anonymous' });
      await client.subscribe('ANON', { last: 1 });
      expect(client.seqs('ANON')).toEqual([1]);
      await client.close();
    } finally {
      await node.stop();
    }
  });

  it('without auth on loopback: everything allowed, but a rebinding Host and a foreign Origin are refused', async () => {
    const node = await startTestNode({ TRANSPORT: 'uws' });
    try {
      expect((await postSignals(node.baseUrl, signal('LOOP', { id: 'same' }))).status).toBe(200);
      // Anonymous publishers share one id namespace, as before auth existed.
      expect((await postSignals(node.baseUrl, signal('LOOP', { id: 'same' }))).body.entries[0].duplicate).toBe(true);
      await expect(TestClient.connect(node.wsUrl, { headers: { host: 'rebind.example:8080' } })).rejects.toThrow(/403/);
      await expect(TestClient.connect(node.wsUrl, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(/403/);
      const own = await TestClient.connect(node.wsUrl, { headers: { origin: `http://127.0.0.1:${node.port}` } });
      await own.close();
    } finally {
      await node.stop();
    }
  });

  it('METRICS_PORT serves /metrics on its own address (METRICS_TOKEN still applies) and takes it off the main port', async () => {
    const token = 'scrape-token-0123456789';
    const node = await startTestNode({ METRICS_PORT: '0', METRICS_TOKEN: token, TRANSPORT: 'ws' });
    const scrape = `http://127.0.0.1:${node.metricsPort}`;
    try {
      expect(node.metricsPort).toBeGreaterThan(0);
      expect((await rawRequest(node.baseUrl, { path: '/metrics', headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
      expect((await rawRequest(scrape, { path: '/metrics' })).status).toBe(401);
      const answer = await rawRequest(scrape, { path: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('sigcast_connections');
      expect((await rawRequest(scrape, { path: '/v1/signals', method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      await node.stop();
    }
    await expect(rawRequest(scrape, { path: '/metrics' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
