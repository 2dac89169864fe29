// How RedisBroker calls its Lua scripts (redis-lua.ts): their arguments, the typed commands
// ioredis sends them as (EVALSHA, loaded on NOSCRIPT), and the parsing of their replies.
import type { Cluster, Redis, Result } from 'ioredis';
import { idempotencyKey, type AppendResult, type AppendedSignal, type HistoryPage } from './broker.js';
import { type AnnounceCommand, HISTORY_LUA, appendLua, forkLua } from './redis-lua.js';
import type { SeenPosition } from './seen-heads.js';
import { parseStoredEntry, storedEntry } from '../signal/entry-json.js';
import type { Entry, Signal } from '../signal/schema.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** See appendLua: the number of keys (4 per part), the keys, then ARGV (appendArgv). */
    sigcastAppend(numberOfKeys: number, ...keysAndArgv: string[]): Result<unknown, Context>;
    /** The same script for parts of one channel: its four keys, then ARGV (what a cluster can route). */
    sigcastAppendChannel(log: string, meta: string, ids: string, live: string, ...argv: string[]): Result<unknown, Context>;
    /** See HISTORY_LUA. */
    sigcastHistory(log: string, meta: string, afterSeq: string, limit: string): Result<unknown, Context>;
    /** See forkLua. */
    sigcastFork(log: string, meta: string, live: string, expectedEpoch: string, floorSeq: string, newEpoch: string): Result<unknown, Context>;
  }
}

/**
 * The commands AppendBatcher already sends once per event-loop turn on one Redis: written at once,
 * not auto-pipelined (see createRedisConnection). On a cluster the batcher sends one call per
 * channel, and auto-pipelining still joins the calls of a turn that go to one shard.
 */
export const BATCHED_PER_TURN: readonly string[] = ['sigcastAppend'];

/**
 * Registers the scripts, announcing with `announce`. History is not marked readOnly on purpose: a
 * replica read could lag behind a live announcement and miss a gap fill.
 */
export function defineSigcastCommands(redis: Redis | Cluster, announce: AnnounceCommand = 'PUBLISH'): void {
  // No fixed key count: an append names four keys per part, and says how many it names.
  redis.defineCommand('sigcastAppend', { lua: appendLua(announce) });
  redis.defineCommand('sigcastAppendChannel', { numberOfKeys: 4, lua: appendLua(announce) });
  redis.defineCommand('sigcastHistory', { numberOfKeys: 2, lua: HISTORY_LUA });
  redis.defineCommand('sigcastFork', { numberOfKeys: 3, lua: forkLua(announce) });
}

/** Where a part's fields sit in its ARGV (appendPart): the signal JSON of signal i at SIGNALS + 2i + 1. */
const PART_HEADER = 5;

/**
 * The ARGV of one part of an append (see appendLua): the channel, the epoch it offers if it
 * creates the history, the newest position the caller has seen of it, then idempotency key and
 * JSON of each signal (the key is the id, or `scope|id` for a principal's publish: see
 * idempotencyKey).
 */
export function appendPart(
  channel: string,
  epochCandidate: string,
  signals: readonly Signal[],
  idempotencyScope?: string,
  /** The newest position the caller has seen of the channel (see appendLua). */
  floor: SeenPosition = { epoch: '', seq: 0 },
): string[] {
  const part = [channel, epochCandidate, floor.epoch, String(floor.seq), String(signals.length)];
  for (const signal of signals) part.push(idempotencyKey(signal.id, idempotencyScope), JSON.stringify(signal));
  return part;
}

/** The whole ARGV of an append call: what all parts share, then each part. */
export function appendArgv(nowMs: number, historySize: number, ttlMs: number, parts: readonly (readonly string[])[]): string[] {
  const argv = [String(nowMs), String(historySize), String(ttlMs)];
  for (const part of parts) for (const value of part) argv.push(value);
  return argv;
}

/** The replies of an append call, one per part (appendLua). */
export function parseAppendCallReply(reply: unknown, parts: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== parts) throw new Error('unexpected reply from the append script');
  return reply;
}

/** `epochCandidate`: the epoch the append offered; the script took it only if it created the history. */
export function parseAppendReply(reply: unknown, signals: readonly Signal[], epochCandidate: string): AppendResult {
  if (!Array.isArray(reply) || reply.length !== 1 + 2 * signals.length || typeof reply[0] !== 'string') {
    throw new Error('unexpected reply from the append script');
  }
  const results: AppendedSignal[] = signals.map((signal, index) => ({
    id: signal.id,
    seq: Number(reply[1 + 2 * index]),
    duplicate: Number(reply[2 + 2 * index]) === 1,
  }));
  return { epoch: reply[0], created: reply[0] === epochCandidate, results };
}

export function parseHistoryReply(reply: unknown): HistoryPage {
  if (!Array.isArray(reply) || reply.length < 2 || typeof reply[0] !== 'string') {
    throw new Error('unexpected reply from the history script');
  }
  // Entries were written by the append script; re-validating them would only cost time.
  const entries = reply.slice(2).map((json) => parseStoredEntry(String(json)));
  return { epoch: reply[0], headSeq: Number(reply[1]), entries };
}

/**
 * Parses one live announcement: the batch's entries as JSON texts, oldest first, one per line
 * (JSON text never holds a raw newline), so each entry's text is kept for its frames.
 * Undefined if malformed.
 */
export function parseAnnouncement(message: string): Entry[] | undefined {
  try {
    return message.split('\n').map((line) => parseStoredEntry(line));
  } catch {
    return undefined;
  }
}

/** Where an announcement's batch lies: its epoch, and the seqs of its first and last entry. */
export interface AnnouncementSpan {
  epoch: string;
  firstSeq: number;
  lastSeq: number;
}

/**
 * Reads the span of an announcement on `channel` from the fixed prefix the append script gives
 * every entry (`{"channel":"<channel>","seq":<n>,"epoch":"<e>",`) without parsing any JSON, so
 * that a batch this node handed over already (its own append) costs no parse. Undefined when a
 * line does not start that way: the caller then parses the whole message.
 */
export function peekAnnouncement(message: string, channel: string): AnnouncementSpan | undefined {
  const prefix = `{"channel":"${channel}","seq":`;
  const first = peekEntryHead(message, 0, prefix);
  if (!first) return undefined;
  const lastLine = message.lastIndexOf('\n') + 1;
  const last = lastLine === 0 ? first : peekEntryHead(message, lastLine, prefix);
  if (!last || last.epoch !== first.epoch || last.seq < first.seq) return undefined;
  return { epoch: first.epoch, firstSeq: first.seq, lastSeq: last.seq };
}

/** The span of a parsed batch (oldest first); undefined for an empty one. */
export function spanOf(entries: readonly Entry[] | undefined): AnnouncementSpan | undefined {
  const first = entries?.[0];
  const last = entries?.[entries.length - 1];
  return first && last ? { epoch: first.epoch, firstSeq: first.seq, lastSeq: last.seq } : undefined;
}

function peekEntryHead(message: string, at: number, prefix: string): { seq: number; epoch: string } | undefined {
  if (!message.startsWith(prefix, at)) return undefined;
  const seqStart = at + prefix.length;
  let seqEnd = seqStart;
  while (seqEnd < message.length && seqEnd - seqStart < 16) {
    const code = message.charCodeAt(seqEnd);
    if (code < 48 || code > 57) break;
    seqEnd += 1;
  }
  if (seqEnd === seqStart || message.charCodeAt(seqStart) === 48) return undefined;
  const epochMark = ',"epoch":"';
  if (!message.startsWith(epochMark, seqEnd)) return undefined;
  const epochStart = seqEnd + epochMark.length;
  const epochEnd = message.indexOf('"', epochStart);
  if (epochEnd <= epochStart || epochEnd - epochStart > 64) return undefined;
  return { seq: Number(message.slice(seqStart, seqEnd)), epoch: message.slice(epochStart, epochEnd) };
}

/**
 * The entries an append stored, built from its part (appendPart), the call's time and its reply
 * as the script built them: what the announcement of this append will carry, in seq order,
 * without reading it back.
 */
export function appendedEntries(channel: string, nowMs: number, signals: readonly Signal[], part: readonly string[], result: AppendResult): Entry[] {
  const entries: Entry[] = [];
  result.results.forEach((item, index) => {
    if (!item.duplicate) entries.push(storedEntry(channel, item.seq, result.epoch, nowMs, signals[index]!, part[PART_HEADER + 2 * index + 1]!));
  });
  return entries;
}

/** { epoch, headSeq, forked } from the fork script. */
export function parseForkReply(reply: unknown): { epoch: string; headSeq: number; forked: boolean } {
  if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[0] !== 'string') throw new Error('unexpected reply from the fork script');
  return { epoch: reply[0], headSeq: Number(reply[1]), forked: Number(reply[2]) === 1 };
}
