// The one place a request or upgrade is let in: Host and Origin first, then the credential
// (slowed down per client address after repeated failures). HTTP routes, WebSocket upgrades and
// the `auth` frame of a live connection all pass here, so they cannot disagree.
import { isIP } from 'node:net';
import { SigcastError } from '../errors.js';
import type { AuthThrottle } from '../limits/auth-throttle.js';
import type { Authenticator } from './authenticator.js';
import { checkOrigin, type OriginOptions } from './origin.js';
import type { Principal } from './principal.js';
import { presentedToken } from './request-token.js';

export interface GateOptions {
  authenticator: Authenticator;
  origins: OriginOptions;
  throttle: AuthThrottle;
  /** Behind a proxy: the client address is the last X-Forwarded-For entry (the one the proxy added). */
  trustProxy: boolean;
}

/** What the gate looks at in a request or upgrade. */
export interface RequestFacts {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query?: URLSearchParams;
  /** The peer address of the TCP connection. */
  remoteAddress: string;
}

export class AccessGate {
  constructor(private readonly options: GateOptions) {}

  get authenticator(): Authenticator {
    return this.options.authenticator;
  }

  /** The client's address: the TCP peer, or with TRUST_PROXY the address the proxy saw. */
  clientAddress(facts: RequestFacts): string {
    if (!this.options.trustProxy) return facts.remoteAddress;
    const forwarded = facts.headers['x-forwarded-for'];
    const last = forwarded?.split(',').at(-1)?.trim();
    return last !== undefined && isIP(last) !== 0 ? last : facts.remoteAddress;
  }

  /** Host and Origin; returns the CORS headers for the answer, or throws. */
  checkOrigin(facts: RequestFacts): Record<string, string> {
    return checkOrigin(facts.headers, this.options.origins);
  }

  /** The principal of a request (or an upgrade, which may carry the token in more places). */
  authenticate(facts: RequestFacts, websocket: boolean): Promise<Principal> {
    const address = this.clientAddress(facts);
    let token: string | undefined;
    try {
      token = presentedToken(facts, websocket);
    } catch (error) {
      this.options.throttle.failed(address);
      return Promise.reject(error);
    }
    return this.verify(token, address);
  }

  /** Verifies a token for `address`: refused while the address is throttled, failures counted. */
  async verify(token: string | undefined, address: string): Promise<Principal> {
    const checked = token !== undefined && this.options.authenticator.configured;
    if (checked) {
      const waitMs = this.options.throttle.waitFor(address);
      if (waitMs > 0) throw new SigcastError('auth_throttled', undefined, undefined, { retryAfterMs: waitMs });
    }
    try {
      return await this.options.authenticator.authenticate(token);
    } catch (error) {
      if (checked) this.options.throttle.failed(address);
      throw error;
    }
  }
}

/** A 401 answer says how to authenticate (RFC 6750). */
export function challengeHeaders(error: SigcastError): Record<string, string> {
  return error.status === 401 ? { 'www-authenticate': 'Bearer realm="sigcast"' } : {};
}
