-- A visitor with a ticket comes back. ARGV: 6 ticket, 7 phase.
local ticket, phase = ARGV[6], ARGV[7]
housekeeping()
if phase ~= "pre" and redis.call("SCARD", prequeue) > 0 then
  -- The event has started: the pre-queue joins the queue in random order.
  local waiting = redis.call("SPOP", prequeue, redis.call("SCARD", prequeue))
  for _, early in ipairs(waiting) do
    redis.call("ZADD", queue, redis.call("INCR", sequence), early)
  end
end
admit_waiting(phase ~= "pre")
if redis.call("GETDEL", admitted .. ticket) then
  -- Claimed once: a copy of this ticket cookie finds nothing here any more.
  redis.call("ZADD", active, now + session, ticket)
  return {"admitted", redis.call("ZSCORE", active, ticket)}
end
if redis.call("SISMEMBER", prequeue, ticket) == 1 then
  redis.call("ZADD", seen, now, ticket)
  return {"prequeued", redis.call("SCARD", prequeue)}
end
if not redis.call("ZRANK", queue, ticket) then return {"unknown"} end
return queued(ticket)
