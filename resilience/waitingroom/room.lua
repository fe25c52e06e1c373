-- The waiting room's state changes. Redis runs each call atomically, so every replica
-- sees one room. Loaded by store.py, which puts the shared part first and one entry
-- point after it.
--
-- KEYS: 1 queue (zset ticket -> arrival number), 2 seen (zset ticket -> when it is due back:
--       its last poll, or the time its page asked it back, whichever is later),
--       3 active (zset visitor -> expiry), 4 bucket (hash: admission tokens),
--       5 admissions (zset ticket -> time admitted), 6 prequeue (set), 7 sequence,
--       8 prefix of "admitted:<ticket>" flags, 9 from_queue (zset ticket -> time let in from
--       the queue), 10 per-address counter (arrive only)
-- ARGV: 1 total active users, 2 admissions per minute, 3 abandon after, 4 claim window,
--       5 session seconds, then the entry point's own arguments.
-- The clock is Redis's own: replicas on different hosts may disagree on the time, and a
-- token bucket fed by several clocks would hand out more than its rate.
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 60.0
local abandon_after = tonumber(ARGV[3])
local claim_window = tonumber(ARGV[4])
local session = tonumber(ARGV[5])
local queue, seen, active, bucket = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local admissions, prequeue, sequence, admitted, from_queue = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
-- The queue's pace is measured over this many seconds of admissions from the queue.
local PACE_WINDOW = 30

local function housekeeping()
  -- Tickets whose holders stopped polling are dropped, so they cannot stall the queue.
  local gone = redis.call("ZRANGEBYSCORE", seen, "-inf", now - abandon_after, "LIMIT", 0, 1000)
  for _, ticket in ipairs(gone) do
    redis.call("ZREM", queue, ticket)
    redis.call("ZREM", seen, ticket)
    redis.call("SREM", prequeue, ticket)
  end
  redis.call("ZREMRANGEBYSCORE", active, "-inf", now)
  redis.call("ZREMRANGEBYSCORE", admissions, "-inf", now - 300)
  redis.call("ZREMRANGEBYSCORE", from_queue, "-inf", now - PACE_WINDOW)
end

local function refill()
  -- A token bucket holding at most one second's worth: admissions stay smooth.
  local state = redis.call("HMGET", bucket, "tokens", "at")
  local burst = math.max(1, rate)
  local tokens, at = tonumber(state[1]), tonumber(state[2])
  if not tokens then return burst end
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end

local function admit_waiting(admitting)
  local tokens = refill()
  local count = redis.call("ZCARD", active)
  while admitting and tokens >= 1 and count < cap do
    local head = redis.call("ZRANGE", queue, 0, 0)[1]
    if not head then break end
    -- The slot is held for the visitor until they come back for it: the claim window from
    -- the time their page asked them back (expect.lua), if that is later than now.
    local due = tonumber(redis.call("ZSCORE", seen, head)) or now
    local hold = math.ceil(math.max(due, now) - now + claim_window)
    redis.call("ZREM", queue, head)
    redis.call("ZREM", seen, head)
    redis.call("SET", admitted .. head, "1", "EX", hold)
    redis.call("ZADD", active, now + hold, head)
    redis.call("ZADD", admissions, now, head)
    redis.call("ZADD", from_queue, now, head)
    tokens = tokens - 1
    count = count + 1
  end
  redis.call("HSET", bucket, "tokens", tostring(tokens), "at", tostring(now))
  return tokens, count
end

local function rate_sample()
  -- The pace the queue moves at now: who was let in from it over the last PACE_WINDOW
  -- seconds. Visitors let straight in (auto mode, before a queue formed) say nothing about
  -- it, and an average over minutes would still hold the slower pace of before the spike.
  local oldest = redis.call("ZRANGE", from_queue, 0, 0, "WITHSCORES")[2] or now
  return redis.call("ZCARD", from_queue), tostring(now - tonumber(oldest))
end

local function queued(ticket)
  redis.call("ZADD", seen, now, ticket)
  local count, span = rate_sample()
  return {"queued", redis.call("ZRANK", queue, ticket) + 1, redis.call("ZCARD", queue), count, span}
end
