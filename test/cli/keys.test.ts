import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { makeAuthKeys, signToken, type AuthKeys } from '../support/auth-keys.js';
import { rawRequest } from '../support/http-raw.js';
import { TestClient } from '../support/sigcast.js';
import { waitFor } from '../support/wait.js';

/** `sigcast keys` and SIGHUP reloads, as users run them: real processes. */
function sigcast(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/sigcast.js', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let keys: AuthKeys;
beforeAll(async () => {
  keys = await makeAuthKeys({});
});
afterAll(() => keys?.cleanup());

describe('sigcast keys', () => {
  it('keys new prints a fresh key once and the record to add, which holds only its hash', async () => {
    const result = await sigcast(['keys', 'new', '--name', 'bot-7', '--scope', 'publish:BTC*']);
    expect(result.code).toBe(0);
    const key = /^(sck_[A-Za-z0-9_-]{43})$/m.exec(result.stdout)?.[1];
    expect(key).toBeDefined();
    const recordLine = result.stdout.split('\n').find((line) => line.startsWith('{'));
    const record = JSON.parse(recordLine!) as { name: string; sha256: string; scope: string };
    expect(record).toEqual({ name: 'bot-7', sha256: sha256(key!), scope: 'publish:BTC*' });
    expect(recordLine).not.toContain(key);
    // Every run makes another key.
    const again = await sigcast(['keys', 'new', '--name', 'bot-7', '--scope', 'publish:BTC*', '--json']);
    expect(JSON.parse(again.stdout).key).not.toBe(key);
  });

  it('keys new --file adds the record to the keys file, refusing a name already there; bad input exits 2', async () => {
    const file = join(keys.dir, 'cli-keys.json');
    const first = await sigcast(['keys', 'new', '--name', 'a', '--scope', 'subscribe:*', '--file', file, '--json']);
    const second = await sigcast(['keys', 'new', '--name', 'b', '--scope', 'publish:X* subscribe:X*', '--file', file, '--json']);
    expect([first.code, second.code]).toEqual([0, 0]);
    const records = JSON.parse(readFileSync(file, 'utf8')) as Array<{ name: string; sha256: string }>;
    expect(records.map((r) => [r.name, r.sha256])).toEqual([
      ['a', sha256(JSON.parse(first.stdout).key)],
      ['b', sha256(JSON.parse(second.stdout).key)],
    ]);
    const duplicate = await sigcast(['keys', 'new', '--name', 'a', '--scope', 'subscribe:*', '--file', file]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain('already has a key named "a"');
    const badScope = await sigcast(['keys', 'new', '--name', 'c', '--scope', 'admin:*']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('"admin:*"');
    expect((await sigcast(['keys', 'new', '--scope', 'publish:*'])).stderr).toContain('--name is required');
  });

  it('keys jwt signs an HS256 token with AUTH_JWT_SECRET', async () => {
    const secret = 'a-secret-for-the-cli-test-of-32-chars+';
    const result = await sigcast(['keys', 'jwt', '--sub', 'alice', '--scope', 'subscribe:*', '--ttl', '60', '--issuer', 'me'], { AUTH_JWT_SECRET: secret });
    expect(result.code).toBe(0);
    const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(secret), { algorithms: ['HS256'], issuer: 'me' });
    expect(payload).toMatchObject({ sub: 'alice', scope: 'subscribe:*' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect((await sigcast(['keys', 'jwt', '--sub', 'x', '--scope', 'subscribe:*'], { AUTH_JWT_SECRET: '' })).code).toBe(2);
  });
});

describe('SIGHUP', () => {
  /** Starts `sigcast serve` and resolves with its port once it listens; its stdout is kept. */
  async function serve(env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; port: number; output: () => string }> {
    const child = spawn(process.execPath, ['bin/sigcast.js', 'serve', '--port', '0', '--transport', 'ws'], { env: { ...process.env, ...env } });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"port":(\d+).*"msg":"listening"/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.on('close', () => reject(new Error(`exited early: ${output}`)));
    });
    onTestFinished(async () => {
      const exited = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    return { child, port, output: () => output };
  }

  it('re-reads the API keys and the JWKS without dropping connections; a broken file keeps the keys in use', async () => {
    const keysFile = join(keys.dir, 'hup-keys.json');
    const jwksFile = join(keys.dir, 'hup-jwks.json');
    writeFileSync(keysFile, '[]');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(keys.rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' }] }));
    const newKey = async (name: string, scope: string) => JSON.parse((await sigcast(['keys', 'new', '--name', name, '--scope', scope, '--file', keysFile, '--json'])).stdout).key as string;
    const oldKey = await newKey('old', 'publish:* subscribe:*');
    const server = await serve({ AUTH_API_KEYS_FILE: keysFile, AUTH_JWT_JWKS_FILE: jwksFile, LOG_LEVEL: 'info', AUTH_JWT_CLOCK_TOLERANCE_SECONDS: '0' });
    const base = `http://127.0.0.1:${server.port}`;
    const publish = (token: string, channel = 'HUP') =>
      rawRequest(base, {
        method: 'POST',
        path: '/v1/signals',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: channel, side: 'BUY', strength: 1 }),
      });
    const hup = async (expected: string) => {
      const seen = server.output().split(expected).length;
      server.child.kill('SIGHUP');
      await waitFor(() => server.output().split(expected).length > seen, 10_000, expected);
    };

    const subscriber = await TestClient.connect(`ws://127.0.0.1:${server.port}/v1/ws`, { headers: { authorization: `Bearer ${oldKey}` } });
    onTestFinished(() => subscriber.close());
    await subscriber.subscribe('HUP');

    // A new key and a new JWKS key are unknown until SIGHUP.
    const botKey = await newKey('bot-9', 'publish:HUP');
    const edToken = await signToken(keys, { alg: 'EdDSA', sub: 'ed-service', scope: 'publish:HUP', issuer: null, audience: null });
    expect((await publish(botKey)).status).toBe(401);
    expect((await publish(edToken)).status).toBe(401);
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(keys.ed.publicKey)), kid: 'ed-1', alg: 'EdDSA' }] }));
    await hup('"msg":"key files reloaded"');
    expect((await publish(botKey)).status).toBe(200);
    expect((await publish(edToken)).status).toBe(200);

    // The old key is revoked: refused from now on, but its open connection stays and keeps receiving.
    writeFileSync(keysFile, JSON.stringify(JSON.parse(readFileSync(keysFile, 'utf8')).filter((r: { name: string }) => r.name !== 'old')));
    await hup('"msg":"key files reloaded"');
    expect((await publish(oldKey)).status).toBe(401);
    expect((await publish(botKey)).status).toBe(200);
    await waitFor(() => subscriber.entries('HUP').length === 3, 5000, 'three entries on the connection opened before the reloads');
    expect(subscriber.closeCode).toBeUndefined();

    // A broken file is reported, and the keys in use stay.
    writeFileSync(keysFile, '{not json');
    await hup('key files not reloaded');
    expect(server.output()).toContain('AUTH_API_KEYS_FILE=');
    expect((await publish(botKey)).status).toBe(200);
    // Keys never appear in the logs.
    for (const secret of [oldKey, botKey, edToken]) expect(server.output()).not.toContain(secret);
  });
});
