// What /readyz answers, as a pure decision over the node's state: ready only when the broker is
// connected, its live subscriptions are in place and every served channel is in sync, and never
// while shutting down. A load balancer sends traffic only where nothing is missing or late.
import type { BrokerHealth } from '../broker/broker.js';

export type NotReadyReason = 'shutting_down' | 'broker_unavailable' | 'subscriptions_down' | 'resyncing';

export interface ReadinessState {
  closing: boolean;
  broker: BrokerHealth;
  /** Served channels re-reading history (a gap or a reconnect), in no particular order. */
  resyncing: readonly string[];
}

export interface ReadinessAnswer {
  status: 200 | 503;
  body: {
    status: 'ready' | 'not_ready';
    reason?: NotReadyReason;
    message?: string;
    broker: BrokerHealth;
    closing: boolean;
    resyncing?: { count: number; channels: string[] };
  };
}

/** At most this many channel names in an answer: the count says how many there are. */
const LISTED_CHANNELS = 10;

export function readiness(state: ReadinessState): ReadinessAnswer {
  const base = { broker: state.broker, closing: state.closing };
  const notReady = (reason: NotReadyReason, message: string, extra: object = {}): ReadinessAnswer => ({
    status: 503,
    body: { status: 'not_ready', reason, message, ...base, ...extra },
  });
  if (state.closing) return notReady('shutting_down', 'this node is shutting down; use another node');
  if (!state.broker.ok) {
    const detail = state.broker.detail ?? 'the broker is not reachable';
    return state.broker.failing === 'subscriptions'
      ? notReady('subscriptions_down', `live announcements are not reaching this node: ${detail}`)
      : notReady('broker_unavailable', `storage is unavailable: ${detail}`);
  }
  if (state.resyncing.length > 0) {
    const count = state.resyncing.length;
    return notReady('resyncing', `${count} channel${count === 1 ? ' is' : 's are'} re-reading history after a gap or a reconnect`, {
      resyncing: { count, channels: state.resyncing.slice(0, LISTED_CHANNELS) },
    });
  }
  return { status: 200, body: { status: 'ready', ...base } };
}
