--- What the event collectors' Lua objects share (bpfiter.cpu_wait in
-- cpu_wait.lua, bpfiter.cache_activity_collector in cache_activity.lua):
-- each wraps a core collector (csrc/collectors/collector.c) as
-- self.collector and adds its own read().
local M = {}

local function positive_seconds(v)
  if type(v) ~= "number" or not (v > 0 and v < 1e9) then
    return "a positive number of seconds, got " .. tostring(v)
  end
end

--- Checks the options table of a collector function named fname: each key
-- must be in `known` (name -> check(value), which returns what the value
-- must be when it is wrong), or be duration (a positive number of seconds)
-- when allow_duration. Raises "bad argument #1 to 'fname' (...)" at the
-- caller of the public function that called this. Returns opts ({} for nil).
function M.check_options(fname, opts, known, allow_duration)
  local function fail(fmt, ...)
    error(("bad argument #1 to '%s' (%s)"):format(fname, fmt:format(...)), 4)
  end
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail("table expected, got %s", type(opts)) end
  for k, v in pairs(opts) do
    local check = known[k] or (k == "duration" and allow_duration and positive_seconds)
    if not check then fail("unknown option '%s' for %s", tostring(k), fname) end
    local want = check(v)
    if want then fail("option '%s' must be %s", k, want) end
  end
  return opts
end

--- A new collector class with the shared methods; the caller adds read()
-- and builds objects with setmetatable({collector = c}, class).
function M.class()
  local C = {}
  C.__index = C

  --- The core's raw counts, as it keeps them.
  function C:snapshot() return self.collector:snapshot() end

  --- Forgets what was collected so far; collecting goes on. Returns the
  -- collector, or nil, message, errno.
  function C:reset()
    local ok, msg, errno = self.collector:reset()
    if not ok then return nil, msg, errno end
    return self
  end

  --- Sleeps for `seconds` while collecting; returns the collector.
  function C:wait(seconds)
    self.collector:wait(seconds)
    return self
  end

  --- Detaches the programs and frees their maps (also on __close and
  -- garbage collection); safe twice.
  function C:close() self.collector:close() end
  C.stop = C.close
  C.__close = C.close
  C.__gc = C.close

  function C:__tostring() return tostring(self.collector) end
  return C
end

return M
