-- wrk script of bench/failed-login.mjs: POST /user/{appId}/login with a wrong password.
--   LATCH_FL_PATH, LATCH_FL_AUTH (Basic app credentials), LATCH_FL_USERS (usernames bench-user-0..n-1),
--   LATCH_FL_MODE "spread": every attempt from a fresh CF-Connecting-IP at the next user, so no
--                 limit trips (the cost of a counted failure);
--                 "same": one address, one user (the cost of a refusal once the limit has tripped),
--   LATCH_FL_EXPECT (the status that counts as success), LATCH_FL_RUN (a run number),
--   LATCH_FL_OUT (the result file).
local path = os.getenv("LATCH_FL_PATH")
local auth = os.getenv("LATCH_FL_AUTH")
local users = tonumber(os.getenv("LATCH_FL_USERS"))
local mode = os.getenv("LATCH_FL_MODE")
local expect = tonumber(os.getenv("LATCH_FL_EXPECT"))
-- A fresh second octet per run, so a run never repeats an earlier run's (user, address) pairs.
local run = tonumber(os.getenv("LATCH_FL_RUN"))
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init()
  n = 0
  ok = 0
  bad = 0
  first_bad = ""
end

function request()
  n = n + 1
  local ip, user = "203.0.113.1", 0
  if mode == "spread" then
    ip = string.format("%d.%d.%d.%d", id % 256, run % 256, math.floor(n / 256) % 256, n % 256)
    user = (n * 7 + id) % users
  end
  local body = string.format('{"username":"bench-user-%d","password":"wrong %d"}', user, n)
  return wrk.format("POST", path, { ["Authorization"] = auth, ["Content-Type"] = "application/json", ["CF-Connecting-IP"] = ip }, body)
end

function response(status, headers, body)
  if status == expect then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 120) end
  end
end

function done(summary, latency, requests)
  local tok, tbad, first = 0, 0, ""
  for _, t in ipairs(threads) do
    tok = tok + t:get("ok")
    tbad = tbad + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  local f = io.open(os.getenv("LATCH_FL_OUT"), "w")
  f:write(string.format('{"ok":%d,"bad":%d,"socket_errors":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"first_bad":"%s"}\n',
    tok, tbad, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), (first:gsub('[%c"\\]', ""))))
  f:close()
end
