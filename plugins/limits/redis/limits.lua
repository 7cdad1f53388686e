-- Rate-limit buckets and budget reservations in one atomic script: a request's admission (and
-- its settlement) is one round trip whatever the number of buckets and budgets. The buckets use
-- the same GCRA arithmetic as the memory limiter (plugins/limits/memory/gcra.ts); everything runs
-- on Redis's clock so every gateway process agrees on "now".
--
-- KEYS      nb bucket keys (each holds the bucket's TAT in ms and expires when the bucket is full),
--           then two keys per budget: a hash (spent, held, seeded, alerted, r:<id> per reservation)
--           and a sorted set of the reservation ids by expiry (ms).
-- ARGV[1]   'take' (admission: all or none) or 'adjust' (settlement: always applied)
-- ARGV[2]   nb
-- ARGV[3i], ARGV[3i+1], ARGV[3i+2]   window_ms, limit, cost of bucket i
-- then, 'take':   reservation id, usd, hold_ms, and per budget: limit_usd, until_ms, seed_usd ('' = unknown)
--       'adjust': reservation id, spent_usd, and per budget: limit_usd, alert fractions (comma-separated, ascending)
--
-- 'take' returns 4 integers per bucket (allowed 1/0, remaining, reset_ms, retry_after_ms), then 2
-- values per budget: allowed (1, 0, or -1 when the budget is unknown and no seed was given) and
-- what it had committed (spent + held) before this request, as a string. Nothing is taken unless
-- every bucket and budget admits; buckets that would admit are then reported as they stand.
-- 'adjust' returns per budget: its spend as a string ('-1' when unknown), the number of alert
-- thresholds newly crossed, and those thresholds.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local mode = ARGV[1]
local nb = tonumber(ARGV[2])
local eps = 0.01
local usd_eps = 1e-9
-- A budget's keys outlive its period by this much (clocks of gateways and Redis may differ).
local grace_ms = 3600000
local next_tats = {}
local out = {}
local all_allowed = true

for i = 1, nb do
  local window = tonumber(ARGV[3 * i])
  local limit = tonumber(ARGV[3 * i + 1])
  local cost = tonumber(ARGV[3 * i + 2])
  local interval = window / limit
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local next_tat = tat + cost * interval
  if mode == 'adjust' then
    if next_tat < now then next_tat = now end
    next_tats[i] = next_tat
  else
    local before = math.max(0, math.floor((window - (tat - now)) / interval + eps))
    local allow_at = next_tat - window
    if allow_at - now > eps then
      all_allowed = false
      out[i] = { 0, before, math.ceil(tat - now), math.ceil(allow_at - now) }
    else
      next_tats[i] = next_tat
      out[i] = { 1, math.max(0, math.floor((window - (next_tat - now)) / interval + eps)), math.ceil(next_tat - now), 0, before, math.ceil(tat - now) }
    end
  end
end

local a = 3 * nb + 3
local nbud = (#KEYS - nb) / 2

-- Drop the reservations of a budget that have expired (their process died, or never settled).
local function purge(h, z)
  local dead = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, id in ipairs(dead) do
    local amount = redis.call('HGET', h, 'r:' .. id)
    if amount then
      redis.call('HINCRBYFLOAT', h, 'held', '-' .. amount)
      redis.call('HDEL', h, 'r:' .. id)
    end
  end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
  -- Nothing in flight: nothing held (no floating-point residue left behind).
  if redis.call('ZCARD', z) == 0 then redis.call('HSET', h, 'held', '0') end
end

-- Store each bucket's new TAT; a full bucket is no key at all.
local function write_buckets()
  for i = 1, nb do
    local ttl = math.ceil(next_tats[i] - now)
    if ttl > 0 then
      redis.call('SET', KEYS[i], string.format('%.17g', next_tats[i]), 'PX', ttl)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end

if mode == 'adjust' then
  write_buckets()
  local id = ARGV[a]
  local spent_usd = ARGV[a + 1]
  local flat = {}
  for j = 1, nbud do
    local h = KEYS[nb + 2 * j - 1]
    local z = KEYS[nb + 2 * j]
    if redis.call('HEXISTS', h, 'seeded') == 1 then
      local amount = redis.call('HGET', h, 'r:' .. id)
      if amount then
        redis.call('HINCRBYFLOAT', h, 'held', '-' .. amount)
        redis.call('HDEL', h, 'r:' .. id)
        redis.call('ZREM', z, id)
      end
      local spent
      if tonumber(spent_usd) > 0 then
        spent = redis.call('HINCRBYFLOAT', h, 'spent', spent_usd)
      else
        spent = redis.call('HGET', h, 'spent') or '0'
      end
      local limit = tonumber(ARGV[a + 2 * j])
      local alerted = tonumber(redis.call('HGET', h, 'alerted') or '0')
      local crossed = {}
      for t in string.gmatch(ARGV[a + 2 * j + 1], '[^,]+') do
        local threshold = tonumber(t)
        if threshold > alerted and tonumber(spent) >= threshold * limit then crossed[#crossed + 1] = t end
      end
      if #crossed > 0 then redis.call('HSET', h, 'alerted', crossed[#crossed]) end
      flat[#flat + 1] = spent
      flat[#flat + 1] = #crossed
      for _, t in ipairs(crossed) do flat[#flat + 1] = t end
    else
      -- The ledger was flushed since the admission: the usage events will seed it again.
      flat[#flat + 1] = '-1'
      flat[#flat + 1] = 0
    end
  end
  return flat
end

-- 'take': the budgets, checked with the buckets; reserved only if everything admits.
local budget_out = {}
local id, usd, hold
if nbud > 0 then
  id = ARGV[a]
  usd = tonumber(ARGV[a + 1])
  hold = tonumber(ARGV[a + 2])
end
for j = 1, nbud do
  local h = KEYS[nb + 2 * j - 1]
  local z = KEYS[nb + 2 * j]
  local limit = tonumber(ARGV[a + 3 * j])
  local until_ms = tonumber(ARGV[a + 3 * j + 1])
  local seed = ARGV[a + 3 * j + 2]
  if redis.call('HEXISTS', h, 'seeded') == 0 then
    if seed == '' then
      all_allowed = false
      budget_out[j] = { -1, '0' }
    else
      redis.call('HSET', h, 'seeded', '1', 'spent', seed, 'held', '0')
      redis.call('PEXPIREAT', h, math.floor(until_ms + grace_ms))
    end
  end
  if budget_out[j] == nil then
    purge(h, z)
    local committed = tonumber(redis.call('HGET', h, 'spent') or '0') + tonumber(redis.call('HGET', h, 'held') or '0')
    local fits = committed < limit and committed + usd <= limit + usd_eps
    if not fits then all_allowed = false end
    budget_out[j] = { fits and 1 or 0, string.format('%.17g', committed) }
  end
end

if all_allowed then
  write_buckets()
  local amount = ARGV[a + 1]
  for j = 1, nbud do
    local h = KEYS[nb + 2 * j - 1]
    local z = KEYS[nb + 2 * j]
    local until_ms = math.floor(tonumber(ARGV[a + 3 * j + 1]) + grace_ms)
    redis.call('HINCRBYFLOAT', h, 'held', amount)
    redis.call('HSET', h, 'r:' .. id, amount)
    redis.call('ZADD', z, now + hold, id)
    redis.call('PEXPIREAT', z, until_ms)
  end
end

local flat = {}
for i = 1, nb do
  local o = out[i]
  if o[1] == 1 and not all_allowed then
    -- Nothing was taken: report this bucket as it stands.
    o = { 1, o[5], o[6], 0 }
  end
  for k = 1, 4 do flat[#flat + 1] = o[k] end
end
for j = 1, nbud do
  flat[#flat + 1] = budget_out[j][1]
  flat[#flat + 1] = budget_out[j][2]
end
return flat
