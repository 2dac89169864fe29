import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyTable, apiKeyRecord, newApiKey, sha256Hex } from '../../src/auth/api-keys.js';
import { Authenticator, type AuthenticatorOptions } from '../../src/auth/authenticator.js';
import { KeyFileError } from '../../src/auth/key-files.js';
import { importPublicKeyPem, looksLikeJwt } from '../../src/auth/jwt.js';
import { ALL_SCOPES, parseScopeStrict } from '../../src/auth/scope.js';
import { SigcastError } from '../../src/errors.js';
import { AUDIENCE, confusedToken, ISSUER, JWT_SECRET, makeAuthKeys, signToken, unsecuredToken, type AuthKeys } from '../support/auth-keys.js';

/** The authenticator on its own: every way a credential is accepted or refused, and key file reloads. */
let keys: AuthKeys;
beforeAll(async () => {
  keys = await makeAuthKeys({ 'bot-7': 'publish:BTC*', reader: 'subscribe:*' });
});
afterAll(() => keys?.cleanup());

const policy = { issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 0 };
const everything = (): AuthenticatorOptions => ({
  jwtSecret: JWT_SECRET,
  jwtPolicy: policy,
  files: { jwtJwksFile: keys.jwksFile, apiKeysFile: keys.apiKeysFile },
});

async function refusal(authenticator: Authenticator, token: string | undefined): Promise<{ code: string; message: string }> {
  const error: unknown = await authenticator.authenticate(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SigcastError);
  return { code: (error as SigcastError).code, message: (error as SigcastError).message };
}

describe('Authenticator', () => {
  it('accepts JWTs of every algorithm with their own key, and names the principal by sub', async () => {
    const auth = await Authenticator.create(everything());
    for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
      const principal = await auth.authenticate(await signToken(keys, { alg, sub: `svc-${alg}`, scope: 'publish:BTC* subscribe:*' }));
      expect(principal).toMatchObject({ id: `jwt:svc-${alg}`, kind: 'jwt', idempotencyScope: `jwt:svc-${alg}`, scopes: { publish: ['BTC*'], subscribe: ['*'] } });
      expect(principal.expiresAt).toBeGreaterThan(Date.now());
    }
  });

  it('accepts a PEM public key, choosing its algorithm from the key type', async () => {
    const auth = await Authenticator.create({ jwtPolicy: policy, files: { jwtPublicKeyFile: keys.rsaPemFile } });
    expect((await auth.authenticate(await signToken(keys, { alg: 'RS256' }))).id).toBe('jwt:alice');
    // The PEM is RSA: an ES256 token is not for it, whatever its signature.
    expect(await refusal(auth, await signToken(keys, { alg: 'ES256' }))).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('ES256') });
    expect(importPublicKeyPem(keys.ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()).algorithm).toBe('ES256');
    expect(importPublicKeyPem(keys.ed.publicKey.export({ type: 'spki', format: 'pem' }).toString()).algorithm).toBe('EdDSA');
  });

  it.each([
    ['expired', { expiresIn: -5 }, 'token_expired', /expired/],
    ['not yet valid', { notBeforeIn: 600 }, 'unauthorized', /not valid yet/],
    ['from another issuer', { issuer: 'https://evil.test' }, 'unauthorized', /issuer/],
    ['for another audience', { audience: 'other-service' }, 'unauthorized', /audience/],
    ['without exp', { expiresIn: null }, 'unauthorized', /no exp/],
    ['without sub', { sub: null }, 'unauthorized', /no sub/],
    ['signed by a key not in the JWKS', { alg: 'RS256' as const, key: undefined, kid: 'rsa-1', stranger: true }, 'unauthorized', /signature/],
    ['with a non-string scope', { extra: { scope: ['publish:*'] } }, 'unauthorized', /scope claim/],
  ])('refuses a token %s', async (_what, options, code, message) => {
    const auth = await Authenticator.create(everything());
    const { stranger, ...tokenOptions } = options as typeof options & { stranger?: boolean };
    const token = await signToken(keys, { ...tokenOptions, ...(stranger ? { key: keys.stranger.privateKey } : {}) });
    const refused = await refusal(auth, token);
    expect(refused.code).toBe(code);
    expect(refused.message).toMatch(message);
  });

  it('refuses alg:none and algorithm confusion (HS256 "signed" with the public key)', async () => {
    const unsecured = unsecuredToken({ sub: 'mallory', scope: 'publish:*', exp: Math.floor(Date.now() / 1000) + 600, iss: ISSUER, aud: AUDIENCE });
    expect(looksLikeJwt(unsecured)).toBe(true);
    const all = await Authenticator.create(everything());
    expect(await refusal(all, unsecured)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('"none"') });
    // With a secret configured, the confused token is checked against the secret, not the key.
    expect(await refusal(all, await confusedToken(keys, { scope: 'publish:*' }))).toMatchObject({ message: expect.stringMatching(/signature/) });
    // With only a public key, HS256 is not accepted at all.
    const pemOnly = await Authenticator.create({ jwtPolicy: policy, files: { jwtPublicKeyFile: keys.rsaPemFile } });
    expect(await refusal(pemOnly, await confusedToken(keys, { scope: 'publish:*' }))).toMatchObject({ message: expect.stringContaining('HS256') });
    expect(await refusal(pemOnly, 'not-a.jwt.at-all')).toMatchObject({ code: 'unauthorized', message: 'malformed token' });
  });

  it('accepts API keys in the file by hash, refuses others, and gives each key its own id namespace', async () => {
    const auth = await Authenticator.create(everything());
    const bot = await auth.authenticate(keys.apiKeys['bot-7']!);
    expect(bot).toEqual({ id: 'key:bot-7', kind: 'api_key', scopes: { publish: ['BTC*'], subscribe: [] }, idempotencyScope: 'key:bot-7' });
    expect(await refusal(auth, newApiKey())).toEqual({ code: 'unauthorized', message: 'unknown API key' });
    expect(await refusal(auth, `${keys.apiKeys['bot-7']!}x`)).toMatchObject({ code: 'unauthorized' });
    expect(await refusal(auth, 'x'.repeat(9000))).toMatchObject({ message: 'the token is too long' });
  });

  it('without a credential: anonymous with its scopes when allowed, else 401', async () => {
    const closed = await Authenticator.create(everything());
    expect(await refusal(closed, undefined)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('required') });
    const readOnly = await Authenticator.create({ ...everything(), anonymous: parseScopeStrict('subscribe:*') });
    expect(await readOnly.authenticate(undefined)).toEqual({ id: 'anonymous', kind: 'anonymous', scopes: { publish: [], subscribe: ['*'] } });
    // With nothing configured a credential is not even looked at: everyone is anonymous.
    const open = await Authenticator.create({ jwtPolicy: policy, files: {}, anonymous: ALL_SCOPES });
    expect(open.configured).toBe(false);
    expect((await open.authenticate('whatever')).id).toBe('anonymous');
  });

  it('re-reads the key files on reload; an unusable file keeps the keys in use', async () => {
    const file = join(keys.dir, 'reload-keys.json');
    const first = newApiKey();
    writeFileSync(file, JSON.stringify([apiKeyRecord('first', first, 'publish:*')]));
    const auth = await Authenticator.create({ jwtPolicy: policy, files: { apiKeysFile: file } });
    expect((await auth.authenticate(first)).id).toBe('key:first');

    const second = newApiKey();
    writeFileSync(file, JSON.stringify([apiKeyRecord('second', second, 'subscribe:*')]));
    await auth.reload();
    expect((await auth.authenticate(second)).id).toBe('key:second');
    expect(await refusal(auth, first)).toMatchObject({ message: 'unknown API key' });

    writeFileSync(file, '[{"name":"broken"');
    await expect(auth.reload()).rejects.toThrow(KeyFileError);
    expect((await auth.authenticate(second)).id).toBe('key:second');
  });

  it('refuses to start on an unusable key file, naming the file and what is wrong', async () => {
    const bad = join(keys.dir, 'bad.json');
    const cases: Array<[string, RegExp]> = [
      ['not json', /not valid JSON/],
      [JSON.stringify([{ name: 'a', sha256: 'abc', scope: 'publish:*' }]), /sha256/],
      [JSON.stringify([{ name: 'a', sha256: sha256Hex('k'), scope: 'admin' }]), /"admin"/],
      [JSON.stringify([apiKeyRecord('a', 'k1', 'publish:*'), apiKeyRecord('a', 'k2', 'publish:*')]), /used twice/],
    ];
    for (const [text, problem] of cases) {
      writeFileSync(bad, text);
      const error = await Authenticator.create({ jwtPolicy: policy, files: { apiKeysFile: bad } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyFileError);
      expect((error as KeyFileError).file).toBe('apiKeysFile');
      expect((error as KeyFileError).problem).toMatch(problem);
    }
    writeFileSync(bad, 'not a pem');
    await expect(Authenticator.create({ jwtPolicy: policy, files: { jwtPublicKeyFile: bad } })).rejects.toThrow(/not a PEM public key/);
    await expect(Authenticator.create({ jwtPolicy: policy, files: { jwtJwksFile: bad } })).rejects.toThrow(/not a JWKS/);
    await expect(Authenticator.create({ jwtPolicy: policy, files: { jwtJwksFile: join(keys.dir, 'missing.json') } })).rejects.toThrow(/cannot be read/);
  });
});

describe('ApiKeyTable', () => {
  it('keeps only hashes and finds a key by comparing against every record', () => {
    const key = newApiKey();
    expect(key).toMatch(/^sck_[A-Za-z0-9_-]{43}$/);
    const text = JSON.stringify([apiKeyRecord('a', newApiKey(), 'publish:*'), apiKeyRecord('b', key, 'subscribe:X*')]);
    expect(text).not.toContain(key);
    const table = ApiKeyTable.parse(text);
    expect(table.size).toBe(2);
    expect(table.find(key)).toEqual({ name: 'b', scopes: { publish: [], subscribe: ['X*'] } });
    expect(table.find(newApiKey())).toBeUndefined();
  });
});
