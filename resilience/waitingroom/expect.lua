-- A queued visitor's page asked them back in ARGV[7] seconds: the room keeps their ticket until
-- then plus the abandon grace, and an admission meanwhile until then plus the claim window.
-- ARGV: 6 ticket, 7 seconds. XX: a ticket admitted or dropped meanwhile is not brought back.
redis.call("ZADD", seen, "XX", now + tonumber(ARGV[7]), ARGV[6])
