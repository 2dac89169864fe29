// The dashboard's static files, served from memory. They are read once, when the routes are made
// (the build writes them to dist/dashboard/), and answered only under their exact names: no part
// of a request path ever reaches the file system, so there is nothing to traverse.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigcastError } from '../errors.js';
import { errorResponse, type HttpRequest, type HttpResponse } from '../protocol/http.js';
import { packageRoot } from '../util/package-root.js';

/** The files the dashboard build writes, with their content types. */
export const DASHBOARD_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json',
  'style.css': 'text/css; charset=utf-8',
};

// The page may load its own files and open a WebSocket back to this server, nothing else.
const PAGE_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface StaticFiles {
  /** The answer for a dashboard path, or undefined when the path is not one (the other routes go on). */
  answer(request: HttpRequest): HttpResponse | undefined;
}

interface File {
  body: Buffer;
  headers: Record<string, string>;
}

/** Where `npm run build:dashboard` (and the `prepare` script of `npm ci`) puts the dashboard. */
export function dashboardDir(): string {
  return join(packageRoot(), 'dist', 'dashboard');
}

export function loadStaticFiles(dir: string = dashboardDir()): StaticFiles {
  const files = new Map<string, File>();
  for (const [name, type] of Object.entries(DASHBOARD_FILES)) {
    const body = readOptional(join(dir, name));
    if (body) files.set(`/${name}`, { body, headers: headersFor(name, type, body) });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  const known = new Set(['/', ...Object.keys(DASHBOARD_FILES).map((name) => `/${name}`)]);

  return {
    answer(request) {
      if (!known.has(request.path)) return undefined;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return errorResponse(new SigcastError('method_not_allowed', `${request.path} answers GET and HEAD only`), { allow: 'GET, HEAD' });
      }
      const file = files.get(request.path);
      if (!file) {
        const missing = request.path === '/' ? 'index.html' : request.path.slice(1);
        return errorResponse(new SigcastError('not_found', `the dashboard is not built (no ${missing} in ${dir}): run npm run build:dashboard`));
      }
      if (matchesEtag(request.headers['if-none-match'], file.headers['etag']!)) return { status: 304, headers: { etag: file.headers['etag']!, 'cache-control': 'no-cache' }, body: '' };
      return { status: 200, headers: file.headers, body: request.method === 'HEAD' ? '' : file.body };
    },
  };
}

function headersFor(name: string, type: string, body: Buffer): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    // The names carry no content hash: browsers keep the files but ask (ETag) before using them.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (name === 'index.html') Object.assign(headers, { 'content-security-policy': PAGE_POLICY, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
  return headers;
}

/** If-None-Match holds the tag (weak or strong, in a list) or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
