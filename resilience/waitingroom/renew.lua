-- An admitted visitor is active again: extend their slot. ARGV: 6 visitor, 7 the pass's nonce.
-- The nonce is the slot's expiry as stored when the pass was last given: a copy of the pass
-- stops working once either holder renews (one pass, one visitor). Returns the new nonce,
-- or 0 if the slot had expired, been freed, or was renewed through another copy.
local expiry = redis.call("ZSCORE", active, ARGV[6])
if not expiry or tonumber(expiry) < now or expiry ~= ARGV[7] then return 0 end
redis.call("ZADD", active, now + session, ARGV[6])
return redis.call("ZSCORE", active, ARGV[6])
