-- The room at a glance, for /metrics and `manage.py waitingroom status`. ARGV: 6 phase.
housekeeping()
admit_waiting(ARGV[6] ~= "pre")
local count, span = rate_sample()
return {redis.call("ZCARD", queue) + redis.call("SCARD", prequeue), redis.call("ZCARD", active), count, span}
