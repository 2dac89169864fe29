// The Lua scripts behind RedisBroker. Each runs atomically, so an append is stored, trimmed,
// expired and announced as one step, and a history read sees meta and list from the same instant.
// All keys a script touches (and the channel it announces on) share the channel's hash tag, so
// every script is valid on a Redis Cluster. Announcements use PUBLISH on one Redis and SPUBLISH
// (sharded pub/sub, delivered only by the shard that owns the slot) on a cluster.

export type AnnounceCommand = 'PUBLISH' | 'SPUBLISH';

/**
 * Moves every retained entry of `log` from epoch `from` to epoch `to`, keeping seqs and order.
 * Entries are built by concatenation with their own epoch before the signal, so the first
 * `"epoch":"<from>"` of an entry is its own. The list loses its TTL (callers set it again).
 */
const RELABEL_LUA = `
local CHUNK = 1000
local function relabel(log, from, to)
  local old, new = '"epoch":"' .. from .. '"', '"epoch":"' .. to .. '"'
  local entries = redis.call('LRANGE', log, 0, -1)
  redis.call('DEL', log)
  for first = 1, #entries, CHUNK do
    local chunk = {}
    for i = first, math.min(first + CHUNK - 1, #entries) do
      local entry = entries[i]
      local s, e = string.find(entry, old, 1, true)
      if s then entry = string.sub(entry, 1, s - 1) .. new .. string.sub(entry, e + 1) end
      chunk[#chunk + 1] = entry
    end
    redis.call('RPUSH', log, unpack(chunk))
  end
end
`;

/**
 * Appends to one or more channels in one call (the appends one node makes in one event-loop
 * turn: one script run and one reply instead of one per append).
 * KEYS: log, meta, ids, live channel of each part, four per part, in order; a call whose parts
 * all name one channel may give its four keys once (a cluster routes a command by its first key).
 * ARGV: nowMs, historySize, ttlMs, then per part: channel, epochCandidate, floorEpoch, floorSeq,
 * count, and count x (idempotency key, signalJson) (the key is the id, or `scope|id` for a
 * principal's publish). Two parts may name the same channel: they are appended in order.
 * floorEpoch/floorSeq: the newest position the calling node has seen of this channel ('' and 0
 * when it has seen none).
 * Returns per part: { epoch, seq1, dup1, seq2, dup2, ... } (dup is 0 or 1), in input order.
 * Channel and epoch come from safe alphabets, so the entry JSON is built by concatenation.
 * Per part, not per signal: one ZMSCORE for the ids, one LPUSH and one ZADD per chunk of
 * CHUNK signals (unpack is bounded by Lua's C stack), so a large batch costs Redis a few commands.
 */
export function appendLua(announce: AnnounceCommand): string {
  return `${RELABEL_LUA}
local now, historySize, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]

local function appendPart(log, meta, ids, live, channel, epochCandidate, floorEpoch, floorSeq, from, to)
  local state = redis.call('HMGET', meta, 'epoch', 'seq')
  local epoch, seq = state[1], tonumber(state[2]) or 0
  if not epoch then
    -- No history (never existed, expired, flushed or lost): a new epoch, and no stale leftovers.
    epoch, seq = epochCandidate, 0
    redis.call('DEL', log, ids)
  elseif epoch == floorEpoch and seq < floorSeq then
    -- Shorter than what the caller already saw of it: appends that were acknowledged are gone (a
    -- failover or a restart lost them). Positions in this epoch no longer name one history, and
    -- the next seqs would be reused: the retained entries move to a new epoch (resets follow).
    relabel(log, epoch, epochCandidate)
    epoch = epochCandidate
  end
  local out = { epoch }
  local fresh, pushes, adds = {}, {}, {}
  local batchIds = {}
  local function flush()
    if #pushes > 0 then redis.call('LPUSH', log, unpack(pushes)) end
    if #adds > 0 then redis.call('ZADD', ids, unpack(adds)) end
    pushes, adds = {}, {}
  end
  for first = from, to, 2 * CHUNK do
    local last = math.min(first + 2 * CHUNK - 1, to)
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
    redis.call('${announce}', live, table.concat(fresh, '\\n'))
  end
  return out
end

local results = {}
local at, k = 4, 1
while at <= #ARGV do
  local count = tonumber(ARGV[at + 4])
  results[#results + 1] = appendPart(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[at], ARGV[at + 1], ARGV[at + 2],
    tonumber(ARGV[at + 3]), at + 5, at + 4 + 2 * count)
  at = at + 5 + 2 * count
  if k + 4 <= #KEYS then k = k + 4 end
end
return results
`;
}

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

/**
 * KEYS: log, meta, live channel. ARGV: expectedEpoch, floorSeq, newEpoch.
 * Moves the history to newEpoch when it is still in expectedEpoch with a head seq below floorSeq
 * (it lost entries someone saw, see appendLua), and announces its newest entry in the new epoch
 * so that every node's feed re-syncs. Returns: { epoch, headSeq, forked (0 or 1) }.
 */
export function forkLua(announce: AnnounceCommand): string {
  return `${RELABEL_LUA}
local log, meta, live = KEYS[1], KEYS[2], KEYS[3]
local state = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = state[1], tonumber(state[2]) or 0
if (not epoch) or epoch ~= ARGV[1] or seq >= tonumber(ARGV[2]) then return { epoch or '', seq, 0 } end
relabel(log, epoch, ARGV[3])
redis.call('HSET', meta, 'epoch', ARGV[3])
local ttl = redis.call('PTTL', meta)
if ttl > 0 then redis.call('PEXPIRE', log, ttl) end
local newest = redis.call('LINDEX', log, 0)
if newest then redis.call('${announce}', live, newest) end
return { ARGV[3], seq, 1 }
`;
}
