-- wrk script: POST one fixed body (read from a file) and print one machine-readable summary line.
-- Usage: wrk ... -s post.lua URL -- BODY_FILE CONTENT_TYPE ACCEPT

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2]
  wrk.headers["Accept"] = args[3]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
