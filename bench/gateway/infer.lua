-- wrk script for bench/gateway: POSTs a small V2 inference request to /v2/models/<endpoint>/infer,
-- with X-User-Id taken in turn from a fixed pool of ids (each thread starts at a different place in
-- the pool). The requests are built once, in init, so wrk spends no time formatting them.
-- Environment: ENDPOINT (default "bench"), USERS (pool size, default 1000).
-- After the run, done() prints one line "JSON {...}" with the totals and latency percentiles (µs).

local endpoint = os.getenv("ENDPOINT") or "bench"
local users = tonumber(os.getenv("USERS") or "1000")
local body = '{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
local path = "/v2/models/" .. endpoint .. "/infer"

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end

local prepared = {}
local position = 0

function init(args)
  for i = 1, users do
    prepared[i] = wrk.format("POST", path,
      { ["Content-Type"] = "application/json", ["X-User-Id"] = "user-" .. i }, body)
  end
  position = (offset or 0) % users
end

function request()
  position = position + 1
  if position > users then position = 1 end
  return prepared[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "rps": %.1f, "bytes": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, "non_2xx_3xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
