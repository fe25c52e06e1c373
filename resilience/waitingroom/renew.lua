-- An admitted visitor is active again: extend their slot. ARGV: 7 visitor. 0 if it had expired.
local expiry = redis.call("ZSCORE", active, ARGV[7])
if not expiry or tonumber(expiry) < now then return 0 end
redis.call("ZADD", active, now + session, ARGV[7])
return 1
