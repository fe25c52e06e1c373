-- A visitor already buying (a cart, on the cart or checkout pages) keeps a slot, counted
-- against the active cap like anyone let in, even over it: they may finish. ARGV: 6 visitor.
housekeeping()
redis.call("ZADD", active, now + session, ARGV[6])
return 1
