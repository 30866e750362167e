-- wrk script for bench/ingest.py: each thread posts its own file of pre-signed events, one
-- line each ("signature<TAB>timestamp<TAB>body"), every event once; it counts answers by
-- status and says when it ran out of events (a redelivery would then skew the figures).
local threads = {}
local made = 0

function setup(thread)
  made = made + 1
  thread:set("events_file", os.getenv("BENCH_EVENTS") .. "." .. made)
  table.insert(threads, thread)
end

function init(args)
  path = os.getenv("BENCH_PATH")
  events = {}
  for line in io.lines(events_file) do
    local signature, timestamp, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    events[#events + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/json",
      ["telnyx-signature-ed25519"] = signature,
      ["telnyx-timestamp"] = timestamp,
    }, body)
  end
  sent = 0
  exhausted = 0
  answers = {}
end

function request()
  sent = sent + 1
  if sent > #events then
    exhausted = 1
    sent = 1
  end
  return events[sent]
end

function response(status, headers, body)
  answers[tostring(status)] = (answers[tostring(status)] or 0) + 1
end

function done(summary, latency, requests)
  local out = {}
  local exhausted_any = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("answers")) do
      out[status] = (out[status] or 0) + count
    end
    exhausted_any = math.max(exhausted_any, thread:get("exhausted"))
  end
  local parts = {}
  for status, count in pairs(out) do parts[#parts + 1] = status .. ":" .. count end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d exhausted=%d answers=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    exhausted_any, table.concat(parts, ",")))
end
