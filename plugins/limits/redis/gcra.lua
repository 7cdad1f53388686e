-- GCRA over several buckets at once, atomically: the same arithmetic as the memory limiter
-- (plugins/limits/memory/gcra.ts), on Redis's clock so every gateway process agrees on "now".
--
-- KEYS[i]   a bucket; its value is the bucket's TAT (ms), and it expires when the bucket is full
-- ARGV[1]   'take' (all or none) or 'adjust' (always applied; a cost may be negative)
-- ARGV[3i-1], ARGV[3i], ARGV[3i+1]   window_ms, limit, cost of bucket i
--
-- 'take' returns 4 integers per bucket: allowed (1/0), remaining, reset_ms, retry_after_ms.
-- Buckets that would admit are reported as they stand when another bucket refuses (nothing is taken).

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local mode = ARGV[1]
local eps = 0.01
local n = #KEYS
local next_tats = {}
local out = {}
local all_allowed = true

for i = 1, n do
  local window = tonumber(ARGV[3 * i - 1])
  local limit = tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
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

if mode == 'adjust' or all_allowed then
  for i = 1, n do
    local ttl = math.ceil(next_tats[i] - now)
    if ttl > 0 then
      redis.call('SET', KEYS[i], string.format('%.17g', next_tats[i]), 'PX', ttl)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
if mode == 'adjust' then return {} end

local flat = {}
for i = 1, n do
  local o = out[i]
  if o[1] == 1 and not all_allowed then
    -- Nothing was taken: report this bucket as it stands.
    o = { 1, o[5], o[6], 0 }
  end
  for j = 1, 4 do flat[#flat + 1] = o[j] end
end
return flat
