// Credentials for tests: throwaway key pairs (RSA, P-256, Ed25519), a JWKS and a PEM file of
// them, an API keys file, and tokens signed (or forged) every way the auth suite needs.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, exportJWK, SignJWT, type JWTPayload } from 'jose';
import { apiKeyRecord, newApiKey } from '../../src/auth/api-keys.js';

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';
export const ISSUER = 'https://id.sigcast.test';
export const AUDIENCE = 'sigcast';

export type Algorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

interface Pair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface AuthKeys {
  dir: string;
  rsa: Pair;
  ec: Pair;
  ed: Pair;
  /** A pair that is in no file: tokens it signs have a wrong signature. */
  stranger: Pair;
  jwksFile: string;
  /** The RSA public key as PEM (AUTH_JWT_PUBLIC_KEY_FILE). */
  rsaPemFile: string;
  rsaPem: string;
  apiKeysFile: string;
  /** API keys by name, as `keys new` would print them. */
  apiKeys: Record<string, string>;
  /** Writes the API keys file anew with these keys (name -> scope); returns the new keys. */
  writeApiKeys(scopes: Record<string, string>): Record<string, string>;
  cleanup(): void;
}

export async function makeAuthKeys(apiKeyScopes: Record<string, string>): Promise<AuthKeys> {
  const dir = mkdtempSync(join(tmpdir(), 'sigcast-auth-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ed = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
    ],
  };
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(jwks));
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const rsaPemFile = join(dir, 'rsa.pem');
  writeFileSync(rsaPemFile, rsaPem);
  const apiKeysFile = join(dir, 'keys.json');
  const keys: AuthKeys = {
    dir,
    rsa,
    ec,
    ed,
    stranger,
    jwksFile,
    rsaPem,
    rsaPemFile,
    apiKeysFile,
    apiKeys: {},
    writeApiKeys(scopes) {
      const fresh = Object.fromEntries(Object.keys(scopes).map((name) => [name, newApiKey()]));
      writeFileSync(apiKeysFile, JSON.stringify(Object.entries(scopes).map(([name, scope]) => apiKeyRecord(name, fresh[name]!, scope))));
      keys.apiKeys = fresh;
      return fresh;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  keys.writeApiKeys(apiKeyScopes);
  return keys;
}

export interface TokenOptions {
  alg?: Algorithm;
  sub?: string | null;
  scope?: string;
  /** Seconds from now; null leaves exp out. */
  expiresIn?: number | null;
  notBeforeIn?: number;
  issuer?: string | null;
  audience?: string | null;
  /** Sign with this key instead of the algorithm's own. */
  key?: KeyObject | Uint8Array;
  kid?: string;
  extra?: JWTPayload;
}

const KIDS: Record<Exclude<Algorithm, 'HS256'>, string> = { RS256: 'rsa-1', ES256: 'ec-1', EdDSA: 'ed-1' };

/** A JWT signed as the options say (by default: HS256, valid for an hour, right issuer and audience). */
export async function signToken(keys: AuthKeys, options: TokenOptions = {}): Promise<string> {
  const alg = options.alg ?? 'HS256';
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { ...(options.scope !== undefined ? { scope: options.scope } : {}), ...options.extra };
  let jwt = new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...(alg === 'HS256' ? {} : { kid: options.kid ?? KIDS[alg] }) }).setIssuedAt(now);
  if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? 'alice');
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBeforeIn !== undefined) jwt = jwt.setNotBefore(now + options.notBeforeIn);
  if (options.issuer !== null) jwt = jwt.setIssuer(options.issuer ?? ISSUER);
  if (options.audience !== null) jwt = jwt.setAudience(options.audience ?? AUDIENCE);
  const key =
    options.key ??
    (alg === 'HS256' ? new TextEncoder().encode(JWT_SECRET) : alg === 'RS256' ? keys.rsa.privateKey : alg === 'ES256' ? keys.ec.privateKey : keys.ed.privateKey);
  return jwt.sign(key);
}

/** An unsecured token (`alg: none`, empty signature) claiming whatever it likes. */
export function unsecuredToken(payload: JWTPayload): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

/** Algorithm confusion: an HS256 token whose "secret" is the server's public RSA key (PEM text). */
export async function confusedToken(keys: AuthKeys, payload: JWTPayload): Promise<string> {
  return signToken(keys, { alg: 'HS256', key: new TextEncoder().encode(keys.rsaPem), ...(payload.scope ? { scope: String(payload.scope) } : {}) });
}

/** The environment of a node that accepts every kind of credential made here. */
export function authEnv(keys: AuthKeys): Record<string, string> {
  return {
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_JWT_JWKS_FILE: keys.jwksFile,
    AUTH_API_KEYS_FILE: keys.apiKeysFile,
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    AUTH_JWT_CLOCK_TOLERANCE_SECONDS: '0',
  };
}
