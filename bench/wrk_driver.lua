-- Drives one journey: each request is a line of the requests file
-- (method<TAB>path<TAB>bearer token<TAB>JSON body or empty<TAB>flags), taken in turn from
-- a random start per thread, so many different users and records are exercised. The flag
-- "idem" sends a fresh Idempotency-Key with every request (each write a new use case).
-- BENCH_REQUESTS names the file, BENCH_DELAY_MS paces each connection (0 = saturation),
-- BENCH_SUMMARY is where the JSON summary is written. BENCH_POSITIONS (comma-separated,
-- one per thread) continues from where an earlier run's threads stopped ("positions" in
-- its summary), so a run measured in slices never sends a line twice that a single run
-- would send once (a claim confirmed again would be a 409).

local requests = {}
local fresh_key = {}
-- A global, not a local: done() reads each thread's position with thread:get(), which
-- sees only globals.
position = 1
local sent = 0
local thread_tag = tostring(math.random(1, 1e9))
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
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
    if f[5] == "idem" then
      table.insert(requests, {f[1], f[2], headers, body})
      table.insert(fresh_key, true)
    else
      table.insert(requests, wrk.format(f[1], f[2], headers, body))
      table.insert(fresh_key, false)
    end
  end
  -- Each thread its own seed: otherwise every thread starts at the same place and walks
  -- the same requests (the second confirming claims the first already confirmed).
  -- BENCH_SEED tells apart two wrk processes started in the same second (bench/ab.py
  -- drives two at once): with the same seed their Idempotency-Keys would collide.
  local seed = tonumber(os.getenv("BENCH_SEED") or "0")
  math.randomseed(os.time() * 1000 + (tid or 0) + seed)
  thread_tag = string.format("%d-%d-%d-%d", seed, os.time(), tid or 0, math.random(1, 1e9))
  -- Threads start evenly apart, so writes do not overlap: each thread has its own share
  -- of the claims to confirm. Reads also start at a random offset in their share.
  local share = math.floor(#requests / (tonumber(os.getenv("BENCH_THREADS")) or 2))
  local offset = 0
  if not fresh_key[1] then offset = math.random(math.max(1, share)) end
  position = ((tid or 1) - 1) * share + offset
  local continued = {}
  for p in (os.getenv("BENCH_POSITIONS") or ""):gmatch("%d+") do table.insert(continued, p) end
  if continued[tid or 1] then position = tonumber(continued[tid or 1]) end
end

function request()
  position = position % #requests + 1
  if fresh_key[position] then
    local r = requests[position]
    sent = sent + 1
    r[3]["Idempotency-Key"] = string.format("bench-%s-%d", thread_tag, sent)
    return wrk.format(r[1], r[2], r[3], r[4])
  end
  return requests[position]
end

function delay()
  return delay_ms
end

function done(summary, latency, requests_)
  local out = io.open(os.getenv("BENCH_SUMMARY"), "w")
  local errors = summary.errors
  -- Every distinct latency with its count, so that runs measured in slices can be merged
  -- into exact percentiles (bench/run.py).
  local histogram = {}
  for i = 1, #latency do
    local value, count = latency(i)
    table.insert(histogram, string.format("[%d, %d]", value, count))
  end
  local positions = {}
  for _, thread in ipairs(threads) do table.insert(positions, thread:get("position")) end
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "socket_errors": %d, "positions": [%s], "latency_us_counts": [%s]}',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(positions, ", "), table.concat(histogram, ", ")))
  out:close()
end

-- BENCH_DEBUG=1 prints the first few error responses of each thread (to find their cause).
local debug = os.getenv("BENCH_DEBUG") == "1"
local shown = 0

function response(status, headers, body)
  if debug and status >= 400 and shown < 3 then
    shown = shown + 1
    print(status, body)
  end
end
