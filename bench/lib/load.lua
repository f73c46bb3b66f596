-- The load generator's script (wrk 4, LuaJIT). bench/lib/harness.mjs runs
--   LATCH_WRK_SPEC=<spec.json> wrk -t C -c C -d Ns -s load.lua URL
-- one thread per connection, so each thread's Lua state is one connection's state: its own
-- refresh token, its own share of a code pool. The spec (written by the harness) says:
--   method, path, headers {name: value}, body       the request; "{item}" in path or body is
--                                                   replaced by the connection's current item
--   mode  "plain"   the same request every time
--         "cycle"   items in turn (ids to GET), round-robin over the connection's share
--         "consume" one item per request, never reused (authorization codes)
--         "rotate"  one item per connection, replaced after each success by the JSON field
--                   `field` of the response (refresh tokens)
--   items_file, threads, expect (status that counts as success), out_file
-- done() writes one JSON line to out_file: counts, latency percentiles (µs), the first
-- unexpected response, and for "rotate" each connection's last item (the next run's input).

local json_escape = function(s)
  return (s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end))
end

-- A tiny JSON reader for the spec: objects, arrays, strings (no escapes but \" \\ \/), numbers.
local function parse_json(s)
  local pos = 1
  local function ws() pos = s:find("[^%s]", pos) or #s + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = s:sub(i, i)
      if c == '"' then pos = i + 1; return table.concat(out) end
      if c == "\\" then
        local n = s:sub(i + 1, i + 1)
        local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" }
        out[#out + 1] = map[n] or n
        i = i + 2
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
  end
  value = function()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws(); local k = str(); ws(); pos = pos + 1 -- ':'
        t[k] = value(); ws()
        local sep = s:sub(pos, pos); pos = pos + 1
        if sep == "}" then return t end
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value(); ws()
        local sep = s:sub(pos, pos); pos = pos + 1
        if sep == "]" then return t end
      end
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = s:match("^-?[%d.eE+-]+", pos)
      pos = pos + #num
      return tonumber(num)
    end
  end
  return value()
end

local function read_file(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("*a")
  f:close()
  return text
end

-- main state ---------------------------------------------------------------------------------
local threads = {}
local spec_path = os.getenv("LATCH_WRK_SPEC")

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- thread state -------------------------------------------------------------------------------
local spec, items, index, field_pattern
local headers = {}
ok, bad, exhausted, first_error = 0, 0, false, nil
current = nil

function init()
  spec = parse_json(read_file(spec_path))
  for k, v in pairs(spec.headers or {}) do headers[k] = v end
  items, index = {}, 0
  if spec.items_file then
    local n = 0
    for line in io.lines(spec.items_file) do
      if line ~= "" then
        if spec.mode == "rotate" then
          if n == id then items[1] = line end
        elseif n % spec.threads == id then
          items[#items + 1] = line
        end
        n = n + 1
      end
    end
  end
  current = items[1]
  if spec.field then field_pattern = '"' .. spec.field .. '"%s*:%s*"([^"]+)"' end
end

local function fill(template, item)
  if not template then return nil end
  if not item then return template end
  return (template:gsub("{item}", function() return item end))
end

function request()
  local item
  if spec.mode == "cycle" then
    index = index % #items + 1
    item = items[index]
  elseif spec.mode == "consume" then
    index = index + 1
    item = items[index]
    -- A pool that ran out is reported; the request then goes to the 404 path and counts as bad.
    if not item then exhausted = true; return wrk.format("GET", "/__bench/pool-ran-out") end
  elseif spec.mode == "rotate" then
    item = current
  end
  current = item
  return wrk.format(spec.method, fill(spec.path, item), headers, fill(spec.body, item))
end

function response(status, _, body)
  if status == spec.expect then
    ok = ok + 1
    if field_pattern then
      local next_item = body:match(field_pattern)
      if next_item then current = next_item end
    end
  else
    bad = bad + 1
    if not first_error then first_error = status .. " " .. (body or ""):sub(1, 200) end
  end
end

-- main state again: one JSON line for the harness ----------------------------------------
function done(summary, latency, _)
  local total_ok, total_bad, any_exhausted, err = 0, 0, false, nil
  local last = {}
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    total_bad = total_bad + (t:get("bad") or 0)
    any_exhausted = any_exhausted or t:get("exhausted")
    err = err or t:get("first_error")
    last[#last + 1] = t:get("current") or ""
  end
  local spec_main = parse_json(read_file(spec_path))
  local e = summary.errors
  local out = assert(io.open(spec_main.out_file, "w"))
  out:write(string.format(
    '{"ok":%d,"bad":%d,"requests":%d,"duration_us":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%f,"exhausted":%s,"first_error":%s,"last":[%s]}\n',
    total_ok, total_bad, summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    tostring(any_exhausted), err and ('"' .. json_escape(err) .. '"') or "null",
    (function()
      local quoted = {}
      for i, v in ipairs(last) do quoted[i] = '"' .. json_escape(v) .. '"' end
      return table.concat(quoted, ",")
    end)()))
  out:close()
end
