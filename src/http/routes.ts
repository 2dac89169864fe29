import type { Broker } from '../broker/broker.js';
import { SigcastError } from '../errors.js';
import type { Publisher } from '../ingest/publisher.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ENCODINGS, encodingOfContentType } from '../protocol/encoding.js';
import { MAX_REPLAY } from '../protocol/frames.js';
import { errorResponse, internalErrorResponse, jsonResponse as json, type HttpHandler, type HttpRequest, type HttpResponse } from '../protocol/http.js';
import { ChannelNameSchema } from '../signal/schema.js';
import { loadStaticFiles } from './static.js';

export interface RoutesContext {
  broker: Broker;
  publisher: Publisher;
  metrics: Metrics;
  log: Logger;
  /** True once shutdown began: ingest answers 503 so publishers go to another node. */
  isClosing(): boolean;
  /** Extra readiness condition besides the broker (e.g. the hub's subscriptions are in place). */
  isReady(): boolean;
}

/** The HTTP API as one pure-ish function over requests: transports only move bytes. */
export function createRoutes(context: RoutesContext): HttpHandler {
  const dashboard = loadStaticFiles();
  return async (request) => {
    try {
      return dashboard.answer(request) ?? (await route(context, request));
    } catch (error) {
      return answerError(context, error);
    }
  };
}

async function route(context: RoutesContext, request: HttpRequest): Promise<HttpResponse> {
  const { method, path } = request;
  if (path === '/v1/signals') {
    if (method !== 'POST') throw methodNotAllowed('POST');
    if (context.isClosing()) throw new SigcastError('shutting_down');
    const entries = await context.publisher.publish(decodeBody(request));
    return json(200, { entries });
  }
  const history = /^\/v1\/channels\/([^/]+)\/history$/.exec(path);
  if (history) {
    if (method !== 'GET') throw methodNotAllowed('GET');
    return json(200, await readHistory(context.broker, decodeURIComponent(history[1]!), request.query));
  }
  if (path === '/healthz') return json(200, { status: 'ok' });
  if (path === '/readyz') {
    const health = await context.broker.health();
    const ready = health.ok && context.isReady() && !context.isClosing();
    return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', broker: health, closing: context.isClosing() });
  }
  if (path === '/metrics') {
    if (method !== 'GET') throw methodNotAllowed('GET');
    return { status: 200, headers: { 'content-type': context.metrics.registry.contentType }, body: await context.metrics.registry.metrics() };
  }
  throw new SigcastError('not_found', `no route ${method} ${path}`);
}

function decodeBody(request: HttpRequest): unknown {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const encoding = encodingOfContentType(type);
  if (encoding !== undefined) return ENCODINGS[encoding].decode(request.body);
  throw new SigcastError('unsupported_media_type', `content-type ${JSON.stringify(type || '(none)')} is not supported; use application/json or application/msgpack`);
}

async function readHistory(broker: Broker, channel: string, query: URLSearchParams): Promise<object> {
  if (!ChannelNameSchema.safeParse(channel).success) throw new SigcastError('invalid_channel', `invalid channel name ${JSON.stringify(channel)}`);
  const since = optionalInt(query, 'since');
  const last = optionalInt(query, 'last') ?? MAX_REPLAY;
  if (last > MAX_REPLAY) throw new SigcastError('bad_request', `last must be at most ${MAX_REPLAY}`);
  const page = await broker.history(channel, { ...(since !== undefined ? { afterSeq: since } : {}), limit: last });
  return { channel, ...page };
}

function optionalInt(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new SigcastError('bad_request', `${name} must be a non-negative integer`);
  return value;
}

function methodNotAllowed(allowed: string): SigcastError {
  return new SigcastError('method_not_allowed', `use ${allowed}`);
}

function answerError(context: RoutesContext, error: unknown): HttpResponse {
  if (!(error instanceof SigcastError)) {
    context.log.error({ err: error }, 'HTTP request failed');
    return internalErrorResponse();
  }
  context.metrics.protocolErrors.inc({ code: error.code });
  return errorResponse(error);
}
