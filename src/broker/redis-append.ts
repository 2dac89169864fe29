// How one append reaches Redis: the script alone, or the script followed by WAIT on the same
// connection (REDIS_ACK_REPLICAS), which confirms that the master's replicas have everything that
// connection wrote so far, this append included.
import { Cluster } from 'ioredis';
import { BrokerUnavailableError } from './broker.js';
import type { ChannelKeys } from './redis-keys.js';
import type { CommandClient } from './redis-topology.js';

/** Replies that mean "ask again elsewhere or later": a pipeline on a cluster is not redirected for us. */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b|Connection is closed/;
const ACKED_ATTEMPTS = 3;

export function sendAppend(client: CommandClient, keys: ChannelKeys, argv: string[]): Promise<unknown> {
  return client.sigcastAppend(keys.log, keys.meta, keys.ids, keys.live, ...argv);
}

/**
 * The script, then WAIT `replicas` `timeoutMs`, in one pipeline (one connection, in order).
 * Rejects with BrokerUnavailableError when fewer replicas confirmed in time: the append is stored
 * on the master (and announced), and retrying it with the same ids is a duplicate, not a copy.
 */
export async function sendAckedAppend(client: CommandClient, keys: ChannelKeys, argv: string[], replicas: number, timeoutMs: number): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const results = await client.pipeline().sigcastAppend(keys.log, keys.meta, keys.ids, keys.live, ...argv).wait(replicas, timeoutMs).exec();
    const [stored, waited] = results ?? [];
    const storeError = stored?.[0];
    if (storeError) {
      // The script did not run where WAIT did (the slot moved): run both again on the new owner.
      if (client instanceof Cluster && attempt < ACKED_ATTEMPTS && REDIRECTED.test(storeError.message)) {
        await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
        continue;
      }
      throw storeError;
    }
    if (waited?.[0]) throw waited[0];
    const confirmed = Number(waited?.[1] ?? 0);
    if (confirmed < replicas) {
      throw new BrokerUnavailableError(
        `stored on the Redis master, but ${confirmed} of the ${replicas} replicas REDIS_ACK_REPLICAS asks for confirmed it within ${timeoutMs} ms; retry with the same ids`,
      );
    }
    return stored?.[1];
  }
}

/**
 * Bounds a cluster command, which ioredis may retry through redirections and failovers for longer
 * than one command timeout. What runs later anyway is harmless: appends carry their ids.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerUnavailableError(`storage is unavailable: Redis did not answer in time (${operation}); retry later`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
