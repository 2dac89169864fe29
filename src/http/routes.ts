import { BrokerUnavailableError, type Broker } from '../broker/broker.js';
import { SigcastError, errorBody } from '../errors.js';
import type { Publisher } from '../ingest/publisher.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decodeJson, decodeMsgpack } from '../protocol/codec.js';
import { MAX_REPLAY } from '../protocol/frames.js';
import { ChannelNameSchema } from '../signal/schema.js';
import type { HttpHandler, HttpRequest, HttpResponse } from '../transport/transport.js';

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

const JSON_HEADERS = { 'content-type': 'application/json' };
const RETRY_AFTER_SECONDS = '1';

/** The HTTP API as one pure-ish function over requests: transports only move bytes. */
export function createRoutes(context: RoutesContext): HttpHandler {
  return async (request) => {
    try {
      return await route(context, request);
    } catch (error) {
      return errorResponse(context, error);
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
  if (type === 'application/json') return decodeJson(request.body);
  if (type === 'application/msgpack' || type === 'application/x-msgpack') return decodeMsgpack(request.body);
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

function errorResponse(context: RoutesContext, error: unknown): HttpResponse {
  const known =
    error instanceof SigcastError
      ? error
      : error instanceof BrokerUnavailableError
        ? new SigcastError('unavailable', `storage is unavailable: ${error.message}`)
        : undefined;
  if (!known) {
    context.log.error({ err: error }, 'HTTP request failed');
    return json(500, errorBody(new SigcastError('internal')));
  }
  context.metrics.protocolErrors.inc({ code: known.code });
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (known.status === 503) headers['retry-after'] = RETRY_AFTER_SECONDS;
  return { status: known.status, headers, body: JSON.stringify(errorBody(known)) };
}

function json(status: number, body: unknown): HttpResponse {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(body) };
}
