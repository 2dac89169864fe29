// Browser origins and Host names, as pure policy. A request with an `Origin` (browsers send one
// on every WebSocket and cross-site request) is served only when that origin is listed in
// ALLOWED_ORIGINS or is the page's own host (sigcast's own pages, e.g. a dashboard it serves).
// A node bound to loopback also refuses a Host that is not a loopback name: a DNS-rebinding page
// reaches 127.0.0.1 under its own name, and its Origin then looks same-host.
import { SigcastError } from '../errors.js';
import { hostOfHeader, isLoopbackHost } from '../util/loopback.js';

export interface OriginOptions {
  /** Origins (`scheme://host[:port]`) allowed besides same-host pages, or 'any'. */
  allowedOrigins: readonly string[] | 'any';
  /** The node is bound to loopback: only loopback Host names are answered. */
  loopbackOnly: boolean;
}

/** Methods and request headers a preflight may ask for. */
const CORS_METHODS = 'GET, POST, OPTIONS';
const CORS_HEADERS = 'authorization, content-type';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** `scheme://host[:port]` lower-cased, with the scheme's default port left out (as browsers send it). */
export function normalizeOrigin(origin: string): string | undefined {
  if (!URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  return url.origin === 'null' ? undefined : url.origin;
}

/**
 * Checks Host and Origin; returns the CORS headers the answer must carry (none without an
 * Origin), or throws `host_not_allowed` / `origin_not_allowed`.
 */
export function checkOrigin(headers: Record<string, string>, options: OriginOptions): Record<string, string> {
  const host = headers['host'];
  if (options.loopbackOnly && host !== undefined && !isLoopbackHost(hostOfHeader(host))) {
    throw new SigcastError('host_not_allowed', `Host ${JSON.stringify(host)} is not a loopback name; this node is bound to loopback`);
  }
  const origin = headers['origin'];
  if (origin === undefined) return {};
  if (!originAllowed(origin, host, options)) {
    throw new SigcastError('origin_not_allowed', `Origin ${JSON.stringify(origin)} is not in ALLOWED_ORIGINS`);
  }
  return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'retry-after' };
}

export function originAllowed(origin: string, host: string | undefined, options: OriginOptions): boolean {
  const normalized = normalizeOrigin(origin);
  if (normalized === undefined) return false;
  if (options.allowedOrigins === 'any' || options.allowedOrigins.includes(normalized)) return true;
  return host !== undefined && new URL(normalized).host === host.trim().toLowerCase();
}

/** The headers of a CORS preflight answer, for an origin that checkOrigin allowed. */
export function preflightHeaders(cors: Record<string, string>): Record<string, string> {
  return {
    ...cors,
    'access-control-allow-methods': CORS_METHODS,
    'access-control-allow-headers': CORS_HEADERS,
    'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
  };
}
