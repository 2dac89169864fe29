// How RedisBroker's commands reach Redis: an append alone, or followed by WAIT on the same
// connection (REDIS_ACK_REPLICAS), which confirms that the master's replicas have everything that
// connection wrote so far, this append included; a history read; a fork of a rewound history;
// and the overall deadline of a cluster command.
import { Cluster } from 'ioredis';
import { BrokerUnavailableError } from './broker.js';
import { newEpoch } from './epoch.js';
import { type BrokerLogger, toBrokerError } from './redis-connection.js';
import type { ChannelKeys } from './redis-keys.js';
import { parseForkReply } from './redis-scripts.js';
import type { CommandClient } from './redis-topology.js';

/** floorSeq for a fork whatever the head seq: a repeated announcement proves the history diverged. */
export const ANY_SEQ = Number.MAX_SAFE_INTEGER;

/** Replies that mean "ask again elsewhere or later": a pipeline on a cluster is not redirected for us. */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b|Connection is closed/;
const ACKED_ATTEMPTS = 3;

/**
 * One append call (appendLua): four keys per part, then ARGV (redis-scripts.ts appendArgv). On a
 * cluster a call holds parts of one channel only, and names its keys once: ioredis routes (and
 * auto-pipelines) a command by its first key, which must then be a key, not a count.
 */
export function sendAppend(client: CommandClient, keys: readonly string[], argv: readonly string[]): Promise<unknown> {
  return appendOn(client, client instanceof Cluster, keys, argv);
}

/** The append command on a connection or a pipeline, in the form its topology routes. */
function appendOn<R>(
  target: { sigcastAppend(numberOfKeys: number, ...keysAndArgv: string[]): R; sigcastAppendChannel(log: string, meta: string, ids: string, live: string, ...argv: string[]): R },
  cluster: boolean,
  keys: readonly string[],
  argv: readonly string[],
): R {
  return cluster ? target.sigcastAppendChannel(keys[0]!, keys[1]!, keys[2]!, keys[3]!, ...argv) : target.sigcastAppend(keys.length, ...keys, ...argv);
}

/**
 * The script, then WAIT `replicas` `timeoutMs`, in one pipeline (one connection, in order). One
 * gap is left: after a SCRIPT FLUSH, ioredis re-sends a NOSCRIPT'ed script outside the pipeline,
 * after the WAIT, so that one append's WAIT does not cover it.
 * Rejects with BrokerUnavailableError when fewer replicas confirmed in time: the append is stored
 * on the master (and announced), and retrying it with the same ids is a duplicate, not a copy.
 */
export async function sendAckedAppend(client: CommandClient, keys: readonly string[], argv: readonly string[], replicas: number, timeoutMs: number): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const results = await appendOn(client.pipeline(), client instanceof Cluster, keys, argv).wait(replicas, timeoutMs).exec();
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
        `storage is unavailable: stored on the Redis master, but ${confirmed} of the ${replicas} replicas REDIS_ACK_REPLICAS asks for confirmed it within ${timeoutMs} ms; retry with the same ids`,
      );
    }
    return stored?.[1];
  }
}

export function sendHistory(client: CommandClient, keys: ChannelKeys, afterSeq: number, limit: number): Promise<unknown> {
  return client.sigcastHistory(keys.log, keys.meta, String(afterSeq), String(limit));
}

/**
 * Moves a rewound history to a new epoch unless it is not in `expectedEpoch` with a head below
 * `floorSeq` any more (another node did it, or it is whole); its newest entry is announced.
 */
export async function sendFork(client: CommandClient, keys: ChannelKeys, channel: string, expectedEpoch: string, floorSeq: number, logger?: BrokerLogger): Promise<void> {
  const reply = await client.sigcastFork(keys.log, keys.meta, keys.live, expectedEpoch, String(floorSeq), newEpoch());
  if (!parseForkReply(reply).forked) return;
  logger?.warn(
    { channel, seenSeq: floorSeq === ANY_SEQ ? 'repeated' : floorSeq },
    `the history of ${channel} went backwards (acknowledged appends were lost in a failover or restart): moved to a new epoch, its subscribers get a reset`,
  );
}

/**
 * Bounds a cluster command, which ioredis may retry through redirections and failovers for longer
 * than one command timeout. What runs later anyway is harmless: appends carry their ids.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(toBrokerError(new Error('Command timed out'), operation)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
