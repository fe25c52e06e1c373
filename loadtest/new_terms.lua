-- wrk script: every request a search for a term nobody searched before, in this run or an earlier
-- one, so no cache holds the page and a replica renders each (the page scale-out must add for).
local threads = 0
local started = os.time()

function setup(thread)
  threads = threads + 1
  thread:set("prefix", "term" .. started .. "t" .. threads .. "x")
end

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/?q=" .. prefix .. counter)
end
