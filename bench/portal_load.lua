-- wrk script for bench.portal_load: walks a list of requests, one per line of the plan file
-- (METHOD <TAB> PATH <TAB> COOKIE <TAB> CSRF TOKEN), each wrk thread taking every n-th line so
-- that no two threads send the same request (an application draft is submitted once only);
-- a plan of fewer lines than threads is sent whole by every thread.
-- Usage: wrk ... -s portal_load.lua URL -- PLAN_FILE THREADS
-- done() prints one line "WRK-JSON {...}" with the counts and latency percentiles (us).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local plan, nthreads = args[1], tonumber(args[2])
  local all = {}
  requests_ = {}
  for line in io.lines(plan) do
    local method, path, cookie, csrf = line:match("^(%S+)\t(%S+)\t([^\t]*)\t([^\t]*)$")
    local headers = { ["User-Agent"] = "anlao-bench" }
    if cookie ~= "" then
      headers["Cookie"] = cookie
    end
    local body = nil
    if method == "POST" then
      headers["X-CSRFToken"] = csrf
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      body = ""
    end
    local formatted = wrk.format(method, path, headers, body)
    table.insert(all, formatted)
    if (#all - 1) % nthreads == id then
      table.insert(requests_, formatted)
    end
  end
  -- A plan shorter than the thread count (a single page): every thread sends all of it.
  -- A thread with nothing to send would hold its connections open silently.
  if #requests_ == 0 then
    requests_ = all
  end
  index = 0
  wraps = 0
end

function request()
  index = index + 1
  if index > #requests_ then
    index = 1
    wraps = wraps + 1
  end
  return requests_[index]
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (thread:get("wraps") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, '
      .. '"p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "wraps": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, wrapped
  ))
end
