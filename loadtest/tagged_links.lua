-- wrk script: every request is a click on an influencer's link, with the campaign's utm_*
-- tags and a click id never seen before, as social apps add to each one. WRK_PATH names the page.
local counter = 0
local thread_id = math.random(1, 1000000)
local page = os.getenv("WRK_PATH") or "/"

request = function()
  counter = counter + 1
  return wrk.format("GET", page .. "?utm_source=instagram&utm_medium=social&utm_campaign=spring-drop"
    .. "&fbclid=IwAR" .. thread_id .. "x" .. counter)
end
