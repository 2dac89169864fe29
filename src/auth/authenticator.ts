// From a presented credential (or none) to a principal. A credential with two dots is a JWT,
// anything else an API key. No credential gives the anonymous principal when anonymous access
// is allowed (its scopes), else 401. With no credential source configured at all, a credential
// is not checked: everyone is anonymous (that is the loopback-only default).
import { SigcastError } from '../errors.js';
import { loadKeyFiles, type KeyFilePaths, type LoadedKeyFiles } from './key-files.js';
import { looksLikeJwt, verifyJwt, type JwtKeys, type JwtPolicy } from './jwt.js';
import { anonymousPrincipal, apiKeyPrincipal, jwtPrincipal, type Principal } from './principal.js';
import { parseScope, type Scopes } from './scope.js';

export interface AuthenticatorOptions {
  /** The HS256 secret (AUTH_JWT_SECRET). */
  jwtSecret?: string;
  jwtPolicy: JwtPolicy;
  files: KeyFilePaths;
  /** What a request without a credential may do; absent: such requests are refused (401). */
  anonymous?: Scopes;
  now?: () => number;
}

/** Longest credential looked at: far above any real JWT or key, and a bound on the work. */
const MAX_TOKEN_LENGTH = 8192;

export class Authenticator {
  private readonly anonymous: Principal | undefined;
  private readonly now: () => number;
  private readonly secret: Uint8Array | undefined;

  private constructor(
    private readonly options: AuthenticatorOptions,
    private keys: LoadedKeyFiles,
  ) {
    this.anonymous = options.anonymous && anonymousPrincipal(options.anonymous);
    this.now = options.now ?? Date.now;
    this.secret = options.jwtSecret === undefined ? undefined : new TextEncoder().encode(options.jwtSecret);
  }

  /** Reads the key files; throws KeyFileError naming the first one that is unusable. */
  static async create(options: AuthenticatorOptions): Promise<Authenticator> {
    return new Authenticator(options, await loadKeyFiles(options.files));
  }

  /** Whether any credential source (JWT secret or key, API keys) is configured. */
  get configured(): boolean {
    const { files } = this.options;
    return this.secret !== undefined || files.apiKeysFile !== undefined || files.jwtPublicKeyFile !== undefined || files.jwtJwksFile !== undefined;
  }

  get allowsAnonymous(): boolean {
    return this.anonymous !== undefined;
  }

  /** Re-reads the key files; on a problem, throws KeyFileError and keeps the keys in use. */
  async reload(): Promise<void> {
    this.keys = await loadKeyFiles(this.options.files);
  }

  /** The principal behind `token`; throws `unauthorized` or `token_expired`. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token === undefined || !this.configured) {
      if (this.anonymous) return this.anonymous;
      throw new SigcastError('unauthorized', 'a token or API key is required (Authorization: Bearer <token>)');
    }
    if (token.length > MAX_TOKEN_LENGTH) throw new SigcastError('unauthorized', 'the token is too long');
    return looksLikeJwt(token) ? this.fromJwt(token) : this.fromApiKey(token);
  }

  private async fromJwt(token: string): Promise<Principal> {
    const keys: JwtKeys = {
      ...(this.secret ? { secret: this.secret } : {}),
      ...(this.keys.publicKey ? { publicKey: this.keys.publicKey } : {}),
      ...(this.keys.jwks ? { jwks: this.keys.jwks } : {}),
    };
    if (!keys.secret && !keys.publicKey && !keys.jwks) throw new SigcastError('unauthorized', 'JWTs are not accepted here; use an API key');
    const verified = await verifyJwt(token, keys, this.options.jwtPolicy, this.now());
    return jwtPrincipal(verified.sub, parseScope(verified.scope).scopes, verified.validUntil);
  }

  private fromApiKey(key: string): Principal {
    if (!this.keys.apiKeys) throw new SigcastError('unauthorized', 'API keys are not accepted here; use a JWT');
    const found = this.keys.apiKeys.find(key);
    if (!found) throw new SigcastError('unauthorized', 'unknown API key');
    return apiKeyPrincipal(found.name, found.scopes);
  }
}
