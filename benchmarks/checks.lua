-- wrk script for the check routes: POSTs the JSON bodies of the file $BODIES (one per line)
-- in turn with the key $TOKEN; with $DELAY_MS > 0 each connection waits that long after a
-- response before its next request (a fixed offered rate: connections x 1000 / DELAY_MS at
-- most). Prints one JSON line with the counts and latency percentiles (microseconds).
local bodies = {}
local f = assert(io.open(os.getenv("BODIES"), "r"))
for line in f:lines() do bodies[#bodies + 1] = line end
f:close()
local path = os.getenv("CHECK_PATH") or "/v1/checks"
local token = os.getenv("TOKEN") or ""
local wait = tonumber(os.getenv("DELAY_MS") or "0")
local i = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function setup(thread)
  thread:set("offset", math.random(1, #bodies))
end

function init(args)
  i = tonumber(offset) or 0
end

function request()
  i = i % #bodies + 1
  return wrk.format(nil, path, nil, bodies[i])
end

if wait > 0 then
  function delay()
    return wait
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
