-- wrk script: every request asks for a catalog URL never asked for before.
local counter = 0
local thread_id = math.random(1, 1000000)

request = function()
  counter = counter + 1
  return wrk.format("GET", "/?bench=" .. thread_id .. "-" .. counter)
end
