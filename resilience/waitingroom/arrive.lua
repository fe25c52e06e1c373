-- A new visitor. ARGV: 6 ticket id, 7 phase ("auto", "on", "pre"), 8 tickets allowed per
-- address, 9 the window of that count. KEYS[10]: this address's counter.
local ticket, phase = ARGV[6], ARGV[7]
housekeeping()
local from_address = redis.call("INCR", KEYS[10])
if from_address == 1 then redis.call("EXPIRE", KEYS[10], tonumber(ARGV[9])) end
if from_address > tonumber(ARGV[8]) then return {"flood"} end
if phase == "pre" then
  redis.call("SADD", prequeue, ticket)
  redis.call("ZADD", seen, now, ticket)
  return {"prequeued", redis.call("SCARD", prequeue)}
end
-- Those already waiting go first: a newcomer never overtakes the queue.
local tokens, count = admit_waiting(true)
if phase == "auto" and redis.call("ZCARD", queue) == 0 and tokens >= 1 and count < cap then
  redis.call("ZADD", active, now + session, ticket)
  redis.call("ZADD", admissions, now, ticket)
  redis.call("HSET", bucket, "tokens", tostring(tokens - 1), "at", tostring(now))
  return {"admitted", redis.call("ZSCORE", active, ticket)}
end
redis.call("ZADD", queue, redis.call("INCR", sequence), ticket)
return queued(ticket)
