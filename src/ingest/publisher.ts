import { performance } from 'node:perf_hooks';
import { mayPublish, type Principal } from '../auth/principal.js';
import { ALL_SCOPES } from '../auth/scope.js';
import type { AppendResult, Broker } from '../broker/broker.js';
import { SigcastError, type ErrorDetail } from '../errors.js';
import type { KeyedBuckets } from '../limits/keyed-buckets.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Encoding } from '../protocol/encoding.js';
import type { AckedEntry } from '../protocol/frames.js';
import { planPublish, type PublishLimits, type PublishPlan } from '../signal/publish-request.js';
import { NewChannelLimiter } from '../limits/new-channel-limiter.js';

export interface PublisherLimits extends PublishLimits {
  /** Channels one publisher may create per minute (NEW_CHANNELS_PER_MINUTE). */
  newChannelsPerMinute: number;
}

/** Who publishes, for the checks made after validation and before anything is stored. */
export interface PublishAccess {
  principal: Principal;
  /** The key of its publish-rate bucket (the principal, or for anonymous publishers their address). */
  rateKey: string;
}

/** Where a publish request came from: for its metrics and its log lines. */
export interface PublishOrigin {
  via: 'http' | 'ws';
  encoding: Encoding;
  /** Carried by every log line of the request (X-Request-Id when the client gave one). */
  requestId: string;
  /** performance.now() when the request arrived (before its body was decoded). */
  receivedAt: number;
}

/** Publishing without auth (tests, tools): everything allowed, the shared id namespace, no rate. */
const UNRESTRICTED: PublishAccess = { principal: { id: 'anonymous', kind: 'anonymous', scopes: ALL_SCOPES }, rateKey: 'anonymous' };

/**
 * Publishing, shared by HTTP and WebSocket: validate the whole request, then one broker append
 * per channel. It answers only after the broker stored everything; any storage failure becomes
 * `unavailable` (the publisher retries; ids make the retry idempotent).
 */
export class Publisher {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private turnEnd: Promise<void> | undefined;
  private readonly newChannels: NewChannelLimiter;

  constructor(
    private readonly broker: Broker,
    private readonly metrics: Metrics,
    private readonly limits: PublisherLimits,
    private readonly log: Logger,
    /** Signals per second per publisher (PUBLISH_RATE / PUBLISH_BURST); absent: no limit. */
    private readonly rate?: KeyedBuckets,
  ) {
    this.newChannels = new NewChannelLimiter({ perMinute: limits.newChannelsPerMinute });
  }

  /**
   * Validates the whole request, then checks every target channel against the principal's
   * publish scope (one channel out of scope stores nothing: 403 naming it), then the publish
   * rate (429 with the delay), then the channels it would create (NEW_CHANNELS_PER_MINUTE per
   * rate key: 429), then appends in the principal's idempotency namespace. Every log line of the
   * request carries its request id.
   */
  async publish(body: unknown, origin: PublishOrigin, access: PublishAccess = UNRESTRICTED): Promise<AckedEntry[]> {
    try {
      const acked = await this.store(body, access);
      const duplicates = acked.filter((entry) => entry.duplicate).length;
      this.metrics.entriesIn.inc({ encoding: origin.encoding }, acked.length - duplicates);
      if (acked.length > duplicates) this.metrics.principalSignalsIn.inc({ principal: this.metrics.principalLabel(access.principal.id) }, acked.length - duplicates);
      if (duplicates > 0) this.metrics.duplicatesIn.inc(duplicates);
      this.finished(origin, 'ack');
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ reqId: origin.requestId, via: origin.via, entries: acked.length, duplicates }, 'published');
      }
      return acked;
    } catch (error) {
      this.finished(origin, 'error');
      // Expected refusals (bad input, Redis away) are the client's to see; only the unexpected is an error here.
      if (!(error instanceof SigcastError)) this.log.error({ reqId: origin.requestId, via: origin.via, err: error }, 'publish failed');
      else if (this.log.isLevelEnabled('debug')) this.log.debug({ reqId: origin.requestId, via: origin.via, code: error.code }, 'publish refused');
      throw error;
    }
  }

  /** Resolves when no publish is in flight (used by graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async store(body: unknown, access: PublishAccess): Promise<AckedEntry[]> {
    const plan = planPublish(body, this.limits);
    assertMayPublish(plan, access.principal);
    const waitMs = this.rate?.take(access.rateKey, plan.placements.length) ?? 0;
    if (waitMs > 0) {
      throw new SigcastError('rate_limited', `publish rate exceeded; retry in ${waitMs} ms`, undefined, { retryAfterMs: waitMs });
    }
    this.inFlight += 1;
    this.metrics.ingestInFlight.inc();
    try {
      await this.endOfTurn();
      const reserved = await this.reserveNewChannels(plan, access.rateKey);
      let appended: AppendResult[] = [];
      try {
        appended = await Promise.all(
          plan.batches.map(async (batch) => {
            const stop = this.metrics.brokerLatency.startTimer();
            const result = await this.broker.append(batch.channel, batch.signals, access.principal.idempotencyScope);
            stop();
            return result;
          }),
        );
      } finally {
        // After a failure some appends may have created their channel; charging none is the lenient side.
        this.newChannels.settle(access.rateKey, reserved, appended.filter((result) => result.created).length);
      }
      return plan.placements.flatMap((placements) =>
        placements.map(({ batch, position }) => {
          const result = appended[batch]!;
          const item = result.results[position]!;
          return { channel: plan.batches[batch]!.channel, seq: item.seq, epoch: result.epoch, id: item.id, duplicate: item.duplicate };
        }),
      );
    } finally {
      this.inFlight -= 1;
      this.metrics.ingestInFlight.dec();
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Takes a token per channel the publish may create, before anything is stored: a request that
   * would create more channels than its publisher may create now is refused whole. While the
   * publisher has tokens for every channel of the request nothing is asked (most publishes);
   * otherwise the broker says which channels exist, and only the new ones count.
   */
  private async reserveNewChannels(plan: PublishPlan, publisher: string): Promise<number> {
    const channels = plan.batches.map((batch) => batch.channel);
    if (this.newChannels.tryTake(publisher, channels.length)) return channels.length;
    const fresh = (await this.broker.exists(channels)).filter((exists) => !exists).length;
    if (this.newChannels.tryTake(publisher, fresh)) return fresh;
    throw this.newChannels.refusal(publisher, fresh);
  }

  /**
   * Publishes arrive one transport callback at a time, and ioredis pipelines only the commands of
   * one tick: waiting for the end of the event-loop turn lets all appends of the turn leave in one
   * write (one syscall instead of one per publish).
   */
  private endOfTurn(): Promise<void> {
    return (this.turnEnd ??= new Promise((resolve) =>
      setImmediate(() => {
        this.turnEnd = undefined;
        resolve();
      }),
    ));
  }

  private finished(origin: PublishOrigin, outcome: 'ack' | 'error'): void {
    this.metrics.ingestLatency.observe({ via: origin.via, outcome }, (performance.now() - origin.receivedAt) / 1000);
  }
}

/** Throws `forbidden` naming each channel of the plan that the principal may not publish to. */
function assertMayPublish(plan: PublishPlan, principal: Principal): void {
  const denied = plan.batches.filter((batch) => !mayPublish(principal, batch.channel));
  if (denied.length === 0) return;
  const details: ErrorDetail[] = denied
    .flatMap((batch) => [...new Set(batch.itemIndexes)].map((index) => ({ index, path: 'channels', message: `may not publish to ${batch.channel}` })))
    .sort((a, b) => a.index - b.index);
  const names = denied.map((batch) => batch.channel);
  throw new SigcastError('forbidden', `not allowed to publish to ${names.map((name) => JSON.stringify(name)).join(', ')}; nothing was stored`, details, {
    channel: names[0]!,
  });
}
