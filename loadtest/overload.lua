-- wrk script for make chaos's overload: every request a search of its own, so no cache answers it.
-- Each connection pauses PAUSE_MS between requests, so the crowd offers a rate (connections x 1000 /
-- PAUSE_MS a second), not as many as the replies allow. At the end: one JSON line, the count of each status.
local pause_ms = tonumber(os.getenv("PAUSE_MS") or "0")
local counter = 0
statuses = {}  -- a global: done() reads each thread's through thread:get
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

request = function()
  counter = counter + 1
  return wrk.format("GET", "/?q=overload-" .. thread_id .. "-" .. counter)
end

delay = function()
  return pause_ms
end

response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
end
