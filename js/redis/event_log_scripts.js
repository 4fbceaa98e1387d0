// The Lua scripts of RedisEventLog. Each operation is one script: one HTTP request, atomic on
// the server. Keys and values arrive through KEYS and ARGV only; the text never changes, so
// EVALSHA finds it cached. They live in JS, not in the wasm core: Redis runs them, and the
// module's size budget is better spent on logic that runs here.
//
// Layout of a log under `key` (inspect it with redis-cli):
//   <key>              STREAM  one entry per event: stream id `<event id>-0`, fields kind, ts
//                              (seconds since the epoch with 6 decimals, from Redis TIME),
//                              payload (JSON)
//   <key>:meta         HASH    last_id (the id counter), last_us (the latest timestamp in
//                              microseconds), bytes (resident kind + payload bytes), and the
//                              lifetime counters appended, evicted_ttl, evicted_size,
//                              evicted_bytes, cleared
//   <key>:append:<id>  STRING  `<first id>:<ts>` of an applied append batch, kept APPEND_WINDOW
//                              seconds so a retried batch returns what it stored
//
// Invariants every script keeps:
// - Ids come from last_id only, which only grows (HINCRBY semantics; never reset by eviction,
//   clear() or a deleted stream: an append also lifts it above the stream's top id).
// - Timestamps never go backwards in id order: an append stamps max(TIME, last_us).
// - Resident ids are contiguous: appends add the next ids at the end, eviction and clear()
//   remove only from the front (or everything).
// - appended = evicted_ttl + evicted_size + evicted_bytes + cleared + XLEN.
// - Type checks come before the first write: Redis does not roll a failed script back.

/** Eviction shared by every script: first by TTL, then the oldest beyond max entries, then the
 * oldest while resident bytes exceed max bytes (0: no byte bound). Removes from the front only. */
const EVICT = `local function field(entry, name)
  local f = entry[2]
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
  return nil
end
local function micros(ts)
  local s, u = string.match(ts or '', '^(%d+)%.(%d+)$')
  if not s then return -1 end
  return tonumber(s) * 1000000 + tonumber(u)
end
local function evict(stream, meta, now, ttl_us, max_entries, max_bytes)
  local len = redis.call('XLEN', stream)
  if len == 0 then return end
  local bytes = tonumber(redis.call('HGET', meta, 'bytes') or '0')
  local cutoff = now - ttl_us
  local counts = {0, 0, 0}
  local start, keep = '-', nil
  -- The first look reads only what size eviction certainly removes (at least the oldest entry),
  -- so an operation that evicts nothing reads one entry.
  local want = math.min(math.max(len - max_entries, 1), 200)
  while keep == nil and len > 0 do
    local chunk = redis.call('XRANGE', stream, start, '+', 'COUNT', want)
    want = 200
    if #chunk == 0 then break end
    for _, entry in ipairs(chunk) do
      local reason = nil
      if micros(field(entry, 'ts')) < cutoff then reason = 1
      elseif len > max_entries then reason = 2
      elseif max_bytes > 0 and bytes > max_bytes then reason = 3 end
      if reason == nil then keep = entry[1]; break end
      counts[reason] = counts[reason] + 1
      len = len - 1
      bytes = bytes - #(field(entry, 'kind') or '') - #(field(entry, 'payload') or '')
    end
    if keep == nil then start = '(' .. chunk[#chunk][1] end
  end
  local gone = counts[1] + counts[2] + counts[3]
  if gone == 0 then return end
  if keep then redis.call('XTRIM', stream, 'MINID', keep) else redis.call('DEL', stream) end
  if bytes < 0 or len == 0 then bytes = 0 end
  redis.call('HSET', meta, 'bytes', string.format('%d', bytes))
  redis.call('HINCRBY', meta, 'evicted_ttl', counts[1])
  redis.call('HINCRBY', meta, 'evicted_size', counts[2])
  redis.call('HINCRBY', meta, 'evicted_bytes', counts[3])
end
local function wrong_type(key, wanted)
  local found = redis.call('TYPE', key)['ok']
  return found ~= 'none' and found ~= wanted
end
local function check_types()
  if wrong_type(KEYS[1], 'stream') then return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is not a stream') end
  if wrong_type(KEYS[2], 'hash') then return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is not a hash') end
  return nil
end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`;

/**
 * Appends a batch of events, exactly once per batch id.
 * KEYS: [stream, meta, batch key]. ARGV: [ttl µs, max entries, max bytes (0: none), seconds the
 * batch key is kept, then kind, payload JSON per event].
 * Returns {replayed (0|1), first id, ts}: the batch's events have ids first.. in order, all
 * stamped ts. replayed 1: an earlier attempt with this batch id applied it; nothing was written.
 */
export const APPEND = `${EVICT}local done = redis.call('GET', KEYS[3])
if done then
  local first, ts = string.match(done, '^(%d+):(.+)$')
  return {1, tonumber(first), ts}
end
local bad = check_types()
if bad then return bad end
local n = (#ARGV - 4) / 2
local now = clock()
local last_us = tonumber(redis.call('HGET', KEYS[2], 'last_us') or '0')
if now < last_us then now = last_us end
local ts = string.format('%d.%06d', math.floor(now / 1000000), now % 1000000)
local last = tonumber(redis.call('HGET', KEYS[2], 'last_id') or '0')
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if top then
  local top_id = tonumber(string.match(top[1], '^(%d+)'))
  if top_id > last then last = top_id end
end
local bytes = 0
for i = 1, n do
  local kind, payload = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  redis.call('XADD', KEYS[1], string.format('%d-0', last + i), 'kind', kind, 'ts', ts, 'payload', payload)
  bytes = bytes + #kind + #payload
end
redis.call('HSET', KEYS[2], 'last_id', string.format('%d', last + n), 'last_us', string.format('%d', now))
redis.call('HINCRBY', KEYS[2], 'bytes', bytes)
redis.call('HINCRBY', KEYS[2], 'appended', n)
evict(KEYS[1], KEYS[2], now, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
redis.call('SET', KEYS[3], string.format('%d', last + 1) .. ':' .. ts, 'EX', ARGV[4])
return {0, last + 1, ts}
`;

/**
 * Evicts, then reads events after a cursor.
 * KEYS: [stream, meta]. ARGV: [ttl µs, max entries, max bytes, first id wanted, count (-1: all)].
 * Returns {first resident id (0: none), last id, entries}, entries as XRANGE returns them.
 */
export const READ = `${EVICT}local bad = check_types()
if bad then return bad end
evict(KEYS[1], KEYS[2], clock(), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
local last = tonumber(redis.call('HGET', KEYS[2], 'last_id') or '0')
local first = 0
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if head then first = tonumber(string.match(head[1], '^(%d+)')) end
local entries = {}
local count = tonumber(ARGV[5])
if count ~= 0 then
  if count < 0 then
    entries = redis.call('XRANGE', KEYS[1], ARGV[4] .. '-0', '+')
  else
    entries = redis.call('XRANGE', KEYS[1], ARGV[4] .. '-0', '+', 'COUNT', count)
  end
end
return {first, last, entries}
`;

/**
 * Drops every resident event; the id counter stays.
 * KEYS: [stream, meta]. Returns how many events were dropped.
 */
export const CLEAR = `${EVICT}local bad = check_types()
if bad then return bad end
local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
if n > 0 then
  redis.call('HINCRBY', KEYS[2], 'cleared', n)
  redis.call('HSET', KEYS[2], 'bytes', '0')
end
return n
`;
