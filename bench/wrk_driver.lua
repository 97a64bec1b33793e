-- Drives one journey: each request is a line of the requests file
-- (method<TAB>path<TAB>bearer token<TAB>JSON body or empty), taken in turn from a random
-- start per thread, so many different users and records are exercised.
-- BENCH_REQUESTS names the file, BENCH_DELAY_MS paces each connection (0 = saturation),
-- BENCH_SUMMARY is where the JSON summary is written.

local requests = {}
local position = 1
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local f = split(line)
    local headers = {["Authorization"] = "Bearer " .. f[3], ["Accept"] = "application/json"}
    local body = nil
    if f[4] ~= nil and f[4] ~= "" then
      body = f[4]
      headers["Content-Type"] = "application/json"
    end
    table.insert(requests, wrk.format(f[1], f[2], headers, body))
  end
  position = math.random(#requests)
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function delay()
  return delay_ms
end

function done(summary, latency, requests_)
  local out = io.open(os.getenv("BENCH_SUMMARY"), "w")
  local errors = summary.errors
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "socket_errors": %d}',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
  out:close()
end
