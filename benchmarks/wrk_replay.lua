-- Replays a file of request paths (one per line) round-robin, for http_load.py.
--
--   wrk -t2 -c16 -d60s --latency -s wrk_replay.lua http://127.0.0.1:PORT -- PATHS [THREADS] [statuses]
--
-- Every wrk thread walks the whole list, starting at its own offset (thread i of THREADS at
-- i * #paths / THREADS), so the threads do not send the same query at the same moment.
-- With "statuses", responses other than 200 are counted by status and printed at the end as
-- "status <code>: <count>" lines (wrk itself only reports "Non-2xx or 3xx responses").

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file, count = args[1], tonumber(args[2]) or 1
   if not file then
      error("give the file of request paths after --")
   end
   paths = {}
   for line in io.lines(file) do
      if line ~= "" then
         paths[#paths + 1] = line
      end
   end
   if #paths == 0 then
      error("no request paths in " .. file)
   end
   position = math.floor(id * #paths / count) % #paths -- 0-based; request() adds 1
   statuses = {}
   if args[3] == "statuses" then
      response = function(status, headers, body)
         if status ~= 200 then
            statuses[status] = (statuses[status] or 0) + 1
         end
      end
   end
end

request = function()
   position = position % #paths + 1
   return wrk.format("GET", paths[position])
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         total[status] = (total[status] or 0) + n
      end
   end
   for status, n in pairs(total) do
      io.write(string.format("status %d: %d\n", status, n))
   end
end
