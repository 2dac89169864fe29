import type { Redis, Result } from 'ioredis';
import { idempotencyKey, type AppendResult, type AppendedSignal, type HistoryPage } from './broker.js';
import { parseStoredEntry } from '../signal/entry-json.js';
import type { Entry, Signal } from '../signal/schema.js';

/**
 * The Lua scripts behind RedisBroker. Each runs atomically, so an append is stored, trimmed,
 * expired and announced as one step, and a history read sees meta and list from the same instant.
 * All keys of a channel share its hash tag, so both scripts are valid on a Redis Cluster.
 */

/**
 * KEYS: log, meta, ids, live channel.
 * ARGV: channel, epochCandidate, nowMs, historySize, ttlMs, then idempotency key, signalJson per
 * signal (the key is the id, or `scope|id` for a principal's publish: see idempotencyKey).
 * Returns: { epoch, seq1, dup1, seq2, dup2, ... } (dup is 0 or 1), in input order.
 * Channel and epoch come from safe alphabets, so the entry JSON is built by concatenation.
 * Per batch, not per signal: one ZMSCORE for the ids, one LPUSH and one ZADD per chunk of
 * CHUNK signals (unpack is bounded by Lua's C stack), so a large batch costs Redis a few commands.
 */
export const APPEND_LUA = `
local log, meta, ids, live = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local channel, now = ARGV[1], ARGV[3]
local historySize = tonumber(ARGV[4])
local ttl = ARGV[5]
local CHUNK = 1000
local state = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = state[1], tonumber(state[2]) or 0
if not epoch then
  -- No history (never existed, expired, flushed or lost): a new epoch, and no stale leftovers.
  epoch, seq = ARGV[2], 0
  redis.call('DEL', log, ids)
end
local out = { epoch }
local fresh, pushes, adds = {}, {}, {}
local batchIds = {}
local function flush()
  if #pushes > 0 then redis.call('LPUSH', log, unpack(pushes)) end
  if #adds > 0 then redis.call('ZADD', ids, unpack(adds)) end
  pushes, adds = {}, {}
end
for first = 6, #ARGV, 2 * CHUNK do
  local last = math.min(first + 2 * CHUNK - 1, #ARGV)
  local chunkIds = {}
  for i = first, last, 2 do chunkIds[#chunkIds + 1] = ARGV[i] end
  local known = redis.call('ZMSCORE', ids, unpack(chunkIds))
  for k = 1, #chunkIds do
    local id = chunkIds[k]
    local stored = known[k] or batchIds[id]
    if stored then
      out[#out + 1] = tonumber(stored)
      out[#out + 1] = 1
    else
      seq = seq + 1
      local entry = '{"channel":"' .. channel .. '","seq":' .. seq .. ',"epoch":"' .. epoch ..
        '","ts":' .. now .. ',"signal":' .. ARGV[first + 2 * k - 1] .. '}'
      pushes[#pushes + 1] = entry
      adds[#adds + 1] = seq
      adds[#adds + 1] = id
      batchIds[id] = seq
      fresh[#fresh + 1] = entry
      out[#out + 1] = seq
      out[#out + 1] = 0
    end
  end
  flush()
end
redis.call('HSET', meta, 'epoch', epoch, 'seq', seq)
redis.call('LTRIM', log, 0, historySize - 1)
redis.call('ZREMRANGEBYSCORE', ids, '-inf', seq - historySize)
redis.call('PEXPIRE', log, ttl)
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', ids, ttl)
if #fresh > 0 then
  redis.call('PUBLISH', live, table.concat(fresh, '\\n'))
end
return out
`;

/**
 * KEYS: log, meta. ARGV: afterSeq, limit.
 * Returns: { epoch, headSeq, entryJson... } oldest first; { '', 0 } when the channel has no history.
 */
export const HISTORY_LUA = `
local state = redis.call('HMGET', KEYS[2], 'epoch', 'seq')
local epoch = state[1]
if not epoch then return { '', 0 } end
local head = tonumber(state[2]) or 0
local count = math.min(head - tonumber(ARGV[1]), tonumber(ARGV[2]), redis.call('LLEN', KEYS[1]))
local out = { epoch, head }
if count <= 0 then return out end
local newestFirst = redis.call('LRANGE', KEYS[1], 0, count - 1)
for i = #newestFirst, 1, -1 do out[#out + 1] = newestFirst[i] end
return out
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** See APPEND_LUA. */
    sigcastAppend(log: string, meta: string, ids: string, live: string, ...argv: string[]): Result<unknown, Context>;
    /** See HISTORY_LUA. */
    sigcastHistory(log: string, meta: string, afterSeq: string, limit: string): Result<unknown, Context>;
  }
}

/**
 * Registers both scripts; ioredis sends them by EVALSHA and loads them on NOSCRIPT. History is not
 * marked readOnly on purpose: a replica read could lag behind a live announcement and miss a gap fill.
 */
export function defineSigcastCommands(redis: Redis): void {
  redis.defineCommand('sigcastAppend', { numberOfKeys: 4, lua: APPEND_LUA });
  redis.defineCommand('sigcastHistory', { numberOfKeys: 2, lua: HISTORY_LUA });
}

/** ARGV of APPEND_LUA: the five fixed arguments, then idempotency key and JSON of each signal. */
export function appendArgv(
  channel: string,
  epochCandidate: string,
  nowMs: number,
  historySize: number,
  ttlMs: number,
  signals: readonly Signal[],
  idempotencyScope?: string,
): string[] {
  const argv = [channel, epochCandidate, String(nowMs), String(historySize), String(ttlMs)];
  for (const signal of signals) argv.push(idempotencyKey(signal.id, idempotencyScope), JSON.stringify(signal));
  return argv;
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
