import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { challengeHeaders, type AccessGate, type RequestFacts } from '../auth/gate.js';
import { preflightHeaders } from '../auth/origin.js';
import { maySubscribe, rateKeyOf } from '../auth/principal.js';
import type { Broker } from '../broker/broker.js';
import { SigcastError } from '../errors.js';
import type { PublishAccess, Publisher } from '../ingest/publisher.js';
import { requestIdFrom } from '../ingest/request-id.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ENCODINGS, encodingOfContentType, type Encoding } from '../protocol/encoding.js';
import { MAX_REPLAY } from '../protocol/frames.js';
import { errorResponse, internalErrorResponse, jsonResponse as json, type HttpHandler, type HttpRequest, type HttpResponse } from '../protocol/http.js';
import { ChannelNameSchema } from '../signal/schema.js';
import { boundedText, quoted } from '../util/bounded-text.js';
import { queryInteger } from './query.js';
import { readiness } from './readiness.js';
import { loadStaticFiles } from './static.js';

/** A known route asked with a method it does not serve: the answer says which ones it does. */
class MethodNotAllowed extends SigcastError {
  constructor(readonly allow: string) {
    super('method_not_allowed', `use ${allow}`);
  }
}

const READ = 'GET, HEAD';

export interface RoutesContext {
  broker: Broker;
  publisher: Publisher;
  metrics: Metrics;
  log: Logger;
  /** True once shutdown began: ingest answers 503 so publishers go to another node. */
  isClosing(): boolean;
  /** Served channels that are not in sync (re-reading history): the node is not ready meanwhile. */
  resyncingChannels(): readonly string[];
  /** Who may do what (Host, Origin, credentials); absent: everything is open, as without auth. */
  access?: RouteAccess;
}

/** When a request arrived, and for ingest its id (X-Request-Id when given): on its answer and log lines. */
interface Arrival {
  receivedAt: number;
  requestId?: string;
}

export interface RouteAccess {
  gate: AccessGate;
  /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
  metricsToken?: string;
  /** /metrics is served on its own address (METRICS_PORT): the main port answers 404 for it. */
  metricsElsewhere?: boolean;
}

/** The HTTP API as one pure-ish function over requests: transports only move bytes. */
export function createRoutes(context: RoutesContext): HttpHandler {
  const dashboard = loadStaticFiles();
  return async (request) => {
    const arrival: Arrival = { receivedAt: performance.now() };
    if (request.path === '/v1/signals') arrival.requestId = requestIdFrom(request.headers['x-request-id']);
    const ids: Record<string, string> = arrival.requestId === undefined ? {} : { 'x-request-id': arrival.requestId };
    // Answers to an allowed Origin carry its CORS headers, errors included (so pages can read them).
    let cors: Record<string, string> = {};
    try {
      cors = context.access?.gate.checkOrigin(factsOf(request)) ?? {};
      return withHeaders(dashboard.answer(request) ?? (await route(context, request, cors, arrival)), { ...cors, ...ids });
    } catch (error) {
      return withHeaders(answerError(context, error, arrival.requestId), { ...cors, ...ids });
    }
  };
}

async function route(context: RoutesContext, request: HttpRequest, cors: Record<string, string>, arrival: Arrival): Promise<HttpResponse> {
  const { method, path } = request;
  if (method === 'OPTIONS') return preflight(request, cors);
  // HEAD is answered as GET; the transport sends the head of the answer only.
  const reads = method === 'GET' || method === 'HEAD';
  if (path === '/v1/signals') {
    if (method !== 'POST') throw new MethodNotAllowed('POST');
    if (context.isClosing()) throw new SigcastError('shutting_down');
    const access = await publishAccess(context, request);
    const { encoding, body } = decodeBody(request);
    const origin = { via: 'http', encoding, requestId: arrival.requestId ?? '', receivedAt: arrival.receivedAt } as const;
    const entries = await context.publisher.publish(body, origin, access);
    return json(200, { entries });
  }
  const history = /^\/v1\/channels\/([^/]+)\/history$/.exec(path);
  if (history) {
    if (!reads) throw new MethodNotAllowed(READ);
    const channel = channelOf(history[1]!);
    const principal = context.access ? await context.access.gate.authenticate(factsOf(request), false) : undefined;
    if (principal && ChannelNameSchema.safeParse(channel).success && !maySubscribe(principal, channel)) {
      throw new SigcastError('forbidden', `not allowed to read ${quoted(channel)}`, undefined, { channel });
    }
    return json(200, await readHistory(context.broker, channel, request.query));
  }
  if ((path === '/healthz' || path === '/readyz') && !reads) throw new MethodNotAllowed(READ);
  if (path === '/healthz') return json(200, { status: 'ok' });
  if (path === '/readyz') {
    // Shutting down decides it: no need to wait for a PING that a frozen Redis would not answer.
    const closing = context.isClosing();
    const broker = closing ? { ok: false, detail: 'not checked: this node is shutting down' } : await context.broker.health();
    const answer = readiness({ closing, broker, resyncing: context.resyncingChannels() });
    return json(answer.status, answer.body);
  }
  if (path === '/metrics' && !context.access?.metricsElsewhere) return metricsAnswer(context, request);
  throw new SigcastError('not_found', `no route ${boundedText(method, 16)} ${boundedText(path, 100)}`);
}

/** The channel named by a path segment; a malformed escape (`%`, `%FF`) is the client's error. */
function channelOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SigcastError('invalid_channel', 'the channel in the path is not valid percent-encoded UTF-8');
  }
}

/**
 * The handler of a listener that serves only /metrics (METRICS_PORT): an address of its own for
 * Prometheus, apart from the one clients reach. METRICS_TOKEN applies there too.
 */
export function createMetricsRoutes(context: Pick<RoutesContext, 'metrics' | 'log' | 'access'>): HttpHandler {
  return async (request) => {
    try {
      if (request.path !== '/metrics') throw new SigcastError('not_found', 'this address serves only /metrics');
      return await metricsAnswer(context, request);
    } catch (error) {
      return answerError(context, error);
    }
  };
}

async function metricsAnswer(context: Pick<RoutesContext, 'metrics' | 'access'>, request: HttpRequest): Promise<HttpResponse> {
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new MethodNotAllowed(READ);
  const token = context.access?.metricsToken;
  if (token !== undefined && !bearerIs(request, token)) throw new SigcastError('unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN>');
  return { status: 200, headers: { 'content-type': context.metrics.registry.contentType }, body: await context.metrics.registry.metrics() };
}

function factsOf(request: HttpRequest): RequestFacts {
  return { headers: request.headers, query: request.query, remoteAddress: request.remoteAddress ?? '' };
}

/** The publisher's principal and rate key; without access control, undefined (everything open). */
async function publishAccess(context: RoutesContext, request: HttpRequest): Promise<PublishAccess | undefined> {
  if (!context.access) return undefined;
  const { gate } = context.access;
  const facts = factsOf(request);
  const principal = await gate.authenticate(facts, false);
  return { principal, rateKey: rateKeyOf(principal, gate.clientAddress(facts)) };
}

/** A CORS preflight from an allowed Origin (checkOrigin refused the others), or a plain OPTIONS. */
function preflight(request: HttpRequest, cors: Record<string, string>): HttpResponse {
  if (request.headers['origin'] !== undefined) return { status: 204, headers: preflightHeaders(cors), body: '' };
  return { status: 204, headers: { allow: 'GET, POST, OPTIONS' }, body: '' };
}

/** Compares the presented bearer token with `expected` in constant time (hashes: equal lengths whatever was sent). */
function bearerIs(request: HttpRequest, expected: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(request.headers['authorization'] ?? '')?.[1];
  if (presented === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function withHeaders(response: HttpResponse, headers: Record<string, string>): HttpResponse {
  if (Object.keys(headers).length === 0) return response;
  return { ...response, headers: { ...response.headers, ...headers } };
}

function decodeBody(request: HttpRequest): { encoding: Encoding; body: unknown } {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const encoding = encodingOfContentType(type);
  if (encoding !== undefined) return { encoding, body: ENCODINGS[encoding].decode(request.body) };
  throw new SigcastError('unsupported_media_type', `content-type ${quoted(type || '(none)')} is not supported; use application/json or application/msgpack`);
}

async function readHistory(broker: Broker, channel: string, query: URLSearchParams): Promise<object> {
  if (!ChannelNameSchema.safeParse(channel).success) throw new SigcastError('invalid_channel', `invalid channel name ${quoted(channel)}`);
  const since = queryInteger(query, 'since', Number.MAX_SAFE_INTEGER);
  const last = queryInteger(query, 'last', MAX_REPLAY) ?? MAX_REPLAY;
  const page = await broker.history(channel, { ...(since !== undefined ? { afterSeq: since } : {}), limit: last });
  return { channel, ...page };
}

function answerError(context: Pick<RoutesContext, 'metrics' | 'log'>, error: unknown, requestId?: string): HttpResponse {
  if (!(error instanceof SigcastError)) {
    context.log.error({ err: error, ...(requestId === undefined ? {} : { reqId: requestId }) }, 'HTTP request failed');
    return internalErrorResponse();
  }
  context.metrics.protocolErrors.inc({ code: error.code });
  return errorResponse(error, { ...challengeHeaders(error), ...(error instanceof MethodNotAllowed ? { allow: error.allow } : {}) });
}
