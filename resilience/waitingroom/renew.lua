-- An admitted visitor is active again: extend their slot. ARGV: 6 visitor. 0 if it had expired.
local expiry = redis.call("ZSCORE", active, ARGV[6])
if not expiry or tonumber(expiry) < now then return 0 end
redis.call("ZADD", active, now + session, ARGV[6])
return 1
