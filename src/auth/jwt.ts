// JWT verification through jose. Each key accepts exactly its own algorithm: HS256 only with
// AUTH_JWT_SECRET, RS256/ES256/EdDSA only with a public key (PEM or JWKS). So `alg: none` and
// algorithm confusion (an HS256 token "signed" with the public key as its secret) are refused
// before any signature check. `exp` and `sub` are required, `nbf` is honoured.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { SigcastError } from '../errors.js';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface PublicKey {
  readonly key: KeyObject;
  readonly algorithm: AsymmetricAlgorithm;
}

/** Whatever verification keys are configured; at least one for JWTs to be accepted. */
export interface JwtKeys {
  readonly secret?: Uint8Array;
  readonly publicKey?: PublicKey;
  readonly jwks?: JWTVerifyGetKey;
}

export interface JwtPolicy {
  readonly issuer?: string;
  readonly audience?: string;
  /** Slack for clocks that disagree, applied to `exp` and `nbf`. */
  readonly clockToleranceSeconds: number;
}

export interface VerifiedJwt {
  sub: string;
  /** The `scope` claim ('' when absent). */
  scope: string;
  /** `exp` plus the clock tolerance, in ms: when a connection opened with this token must end. */
  validUntil: number;
}

/** Longest `sub` accepted: it becomes the principal's name and idempotency namespace. */
const MAX_SUB_LENGTH = 256;

/** A JWT has three base64url parts; API keys have no dot. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The PEM public key's algorithm, from its type: RSA -> RS256, P-256 -> ES256, Ed25519 -> EdDSA. */
export function importPublicKeyPem(pem: string): PublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`is not a PEM public key (${error instanceof Error ? error.message : String(error)})`);
  }
  if (key.asymmetricKeyType === 'rsa') return { key, algorithm: 'RS256' };
  if (key.asymmetricKeyType === 'ed25519') return { key, algorithm: 'EdDSA' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, algorithm: 'ES256' };
  const details = key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : '';
  throw new Error(`holds a ${key.asymmetricKeyType ?? 'unknown'}${details} key; use RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA)`);
}

/** A local JWKS document (the JSON text of AUTH_JWT_JWKS_FILE) as a key resolver. */
export function importJwks(text: string): JWTVerifyGetKey {
  try {
    const json: unknown = JSON.parse(text);
    return createLocalJWKSet(json as Parameters<typeof createLocalJWKSet>[0]);
  } catch (error) {
    throw new Error(`is not a JWKS document ({"keys":[...]}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

const unauthorized = (message: string) => new SigcastError('unauthorized', message);

export async function verifyJwt(token: string, keys: JwtKeys, policy: JwtPolicy, now = Date.now()): Promise<VerifiedJwt> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized('malformed token');
  }
  const options = {
    ...(policy.issuer !== undefined ? { issuer: policy.issuer } : {}),
    ...(policy.audience !== undefined ? { audience: policy.audience } : {}),
    clockTolerance: policy.clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
    currentDate: new Date(now),
  };
  let payload;
  try {
    if (alg === 'HS256') {
      if (!keys.secret) throw unauthorized('HS256 tokens are not accepted here (no AUTH_JWT_SECRET)');
      ({ payload } = await jwtVerify(token, keys.secret, { ...options, algorithms: ['HS256'] }));
    } else if (keys.publicKey && alg === keys.publicKey.algorithm) {
      ({ payload } = await jwtVerify(token, keys.publicKey.key, { ...options, algorithms: [keys.publicKey.algorithm] }));
    } else if (keys.jwks && (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg ?? '')) {
      ({ payload } = await jwtVerify(token, keys.jwks, { ...options, algorithms: [...ASYMMETRIC_ALGORITHMS] }));
    } else {
      throw unauthorized(`tokens signed with ${JSON.stringify(alg ?? 'no alg')} are not accepted here`);
    }
  } catch (error) {
    throw explain(error);
  }
  const { sub, scope, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) throw unauthorized(`sub must be a string of 1-${MAX_SUB_LENGTH} chars`);
  if (scope !== undefined && typeof scope !== 'string') throw unauthorized('the scope claim must be a space-separated string');
  return { sub, scope: scope ?? '', validUntil: (exp! + policy.clockToleranceSeconds) * 1000 };
}

/** jose's failure in sigcast's words; an expired token gets its own code, so clients know to refresh. */
function explain(error: unknown): SigcastError {
  if (error instanceof SigcastError) return error;
  if (error instanceof errors.JWTExpired) return new SigcastError('token_expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return unauthorized(`the token has no ${error.claim} claim`);
    if (error.claim === 'nbf') return unauthorized('the token is not valid yet (nbf)');
    if (error.claim === 'iss') return unauthorized('the token has the wrong issuer (iss)');
    if (error.claim === 'aud') return unauthorized('the token has the wrong audience (aud)');
    return unauthorized(`the token's ${error.claim} claim is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized('the token signature is not valid');
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized('no key of AUTH_JWT_JWKS_FILE matches the token');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return unauthorized('several keys of AUTH_JWT_JWKS_FILE match the token: give it a kid');
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthorized('the token algorithm is not accepted here');
  return unauthorized('malformed token');
}
