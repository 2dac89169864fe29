// Who is behind a request or connection: its name (in logs, metrics and the idempotency
// namespace), its scopes, and when its credential stops being valid.
import { grants, type Scopes } from './scope.js';

export type PrincipalKind = 'anonymous' | 'api_key' | 'jwt';

export interface Principal {
  /** `anonymous`, `key:<name>` or `jwt:<sub>`: distinct kinds never share a name. */
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly scopes: Scopes;
  /** When the credential expires (ms since the epoch); absent for API keys and anonymous access. */
  readonly expiresAt?: number;
  /**
   * The namespace of this principal's signal ids, so that no one can squat another's ids.
   * Absent for anonymous publishers: they share one namespace, as before auth existed.
   */
  readonly idempotencyScope?: string;
}

export function anonymousPrincipal(scopes: Scopes): Principal {
  return { id: 'anonymous', kind: 'anonymous', scopes };
}

export function apiKeyPrincipal(name: string, scopes: Scopes): Principal {
  const id = `key:${name}`;
  return { id, kind: 'api_key', scopes, idempotencyScope: id };
}

export function jwtPrincipal(sub: string, scopes: Scopes, expiresAt: number): Principal {
  const id = `jwt:${sub}`;
  return { id, kind: 'jwt', scopes, expiresAt, idempotencyScope: id };
}

export function mayPublish(principal: Principal, channel: string): boolean {
  return grants(principal.scopes, 'publish', channel);
}

export function maySubscribe(principal: Principal, channel: string): boolean {
  return grants(principal.scopes, 'subscribe', channel);
}

/** The key of a principal's publish-rate bucket: anonymous publishers are told apart by address. */
export function rateKeyOf(principal: Principal, address: string): string {
  return principal.kind === 'anonymous' ? `anonymous@${address}` : principal.id;
}
