//! The Lua scripts of the Redis event buffer. Each operation is one script, so one HTTP
//! request and atomic on the server. Every key and value arrives through KEYS and ARGV; the
//! script text never changes, so its SHA-1 (computed by the JS client) is stable and EVALSHA
//! finds it cached. The one key a script builds itself is a session ZSET
//! (`ARGV[1] .. session`), from session ids it reads from the sessions SET: a drain cannot
//! know them before it runs.
//!
//! Write safety: Redis does not roll a script back when a command in it fails, so each
//! script checks the types of the keys it writes before its first write; foreign data under
//! a key of the layout makes the add fail whole (nothing written) and is skipped by a drain.
//!
//! Numbers: Lua turns numbers into integers on the way out and prints them with 14
//! significant digits, so scores and bounds travel as strings (computed in Rust) and the
//! scripts return only integers and strings.

/// Adds a batch of events (the adds of one tick), exactly once per batch id.
///
/// KEYS: `[sessions SET, arrival counter, batch key, session ZSET of event 1, ...]`.
/// ARGV: `[seconds the batch key is kept, then per event: session id, score, eviction bound
/// ('(' .. score - window), payload JSON]`.
/// Returns `{status, evicted, merged}`: status 0 applied now, 1 applied by an earlier attempt
/// with this batch id (its counts), 2 fenced (this batch id was given up: never applied).
/// `evicted` counts members removed by the window, `merged` members that already existed
/// (identical member: the event merged with an earlier one).
pub const ADD: &str = r#"local done = redis.call('GET', KEYS[3])
if done then
  if done == 'fenced' then return {2, 0, 0} end
  local evicted, merged = string.match(done, '^(%d+):(%d+)$')
  return {1, tonumber(evicted) or 0, tonumber(merged) or 0}
end
local function holds_other(key, wanted)
  local found = redis.call('TYPE', key)['ok']
  return found ~= 'none' and found ~= wanted
end
if holds_other(KEYS[1], 'set') then return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is not a set') end
if holds_other(KEYS[2], 'string') then return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is not a counter') end
for i = 4, #KEYS do
  if holds_other(KEYS[i], 'zset') then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a sorted set') end
end
local n = #KEYS - 3
local first = redis.call('INCRBY', KEYS[2], n) - n
local evicted, merged = 0, 0
for i = 1, n do
  local a = 4 * i - 2
  local key = KEYS[3 + i]
  redis.call('SADD', KEYS[1], ARGV[a])
  evicted = evicted + redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[a + 2])
  local member = string.format('%08x', (first + i) % 4294967296) .. ':' .. ARGV[a + 3]
  if redis.call('ZADD', key, ARGV[a + 1], member) == 0 then merged = merged + 1 end
end
redis.call('SET', KEYS[3], string.format('%d:%d', evicted, merged), 'EX', ARGV[1])
return {0, evicted, merged}
"#;

/// Settles add batches whose outcome the client could not learn: for each batch key, what
/// the batch did if it was applied, else marks it fenced so that a late copy of the request
/// (still queued somewhere) is never applied.
///
/// KEYS: batch keys. ARGV: `[seconds the mark is kept]`.
/// Returns `{status, evicted, merged}` per key, flattened: status 1 applied (its counts),
/// 2 fenced (never applied).
pub const FENCE: &str = r#"local out = {}
for i = 1, #KEYS do
  local done = redis.call('GET', KEYS[i])
  if not done then
    redis.call('SET', KEYS[i], 'fenced', 'EX', ARGV[1])
    done = 'fenced'
  end
  if done == 'fenced' then
    out[#out + 1] = 2; out[#out + 1] = 0; out[#out + 1] = 0
  else
    local evicted, merged = string.match(done, '^(%d+):(%d+)$')
    out[#out + 1] = 1; out[#out + 1] = tonumber(evicted) or 0; out[#out + 1] = tonumber(merged) or 0
  end
end
return out
"#;

/// Takes every member of every session of a prefix and deletes exactly what it took, in one
/// atomic step; keeps the batch under the drain's key until the client has delivered it, so
/// a retry with the same drain id returns the same batch.
///
/// KEYS: `[sessions SET, this drain's key, keys of this client's delivered drains...]`.
/// ARGV: `[session ZSET key base, seconds a drained batch is kept]`.
/// Returns `{replayed, member, score, member, score, ...}` (scores as Redis prints them):
/// replayed 1 when this drain id had already run (its kept batch), else 0.
pub const DRAIN: &str = r#"for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
if redis.call('EXISTS', KEYS[2]) == 1 then
  local kept = redis.call('LRANGE', KEYS[2], 0, -1)
  table.insert(kept, 1, 1)
  return kept
end
local out = {0}
for _, session in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. session
  local found = redis.call('TYPE', key)['ok']
  if found == 'zset' then
    local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #entries do out[#out + 1] = entries[i] end
    redis.call('DEL', key)
    redis.call('SREM', KEYS[1], session)
  elseif found == 'none' then
    redis.call('SREM', KEYS[1], session)
  end
end
for i = 2, #out, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(out, i, math.min(i + 999, #out)))
end
if #out > 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return out
"#;

/// Counts the members of every session of a prefix.
///
/// KEYS: `[sessions SET]`. ARGV: `[session ZSET key base]`. Returns an integer.
pub const SIZE: &str = r#"local n = 0
for _, session in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. session
  if redis.call('TYPE', key)['ok'] == 'zset' then n = n + redis.call('ZCARD', key) end
end
return n
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_no_key_of_the_layout() {
        // Keys come from KEYS (and the session key base from ARGV), never from the text.
        for script in [ADD, FENCE, DRAIN, SIZE] {
            assert!(!script.contains("autoplay:"));
            assert!(script.contains("KEYS["));
        }
    }
}
