--- What the event collectors' Lua objects share (bpfiter.cpu_wait_collector
-- in stats.lua, bpfiter.cache_activity_collector in activity.lua): each
-- wraps a core collector as self.collector and adds its own read().
local M = {}

--- A new collector class with the shared methods; the caller adds read()
-- and reset(), and builds objects with setmetatable({collector = c}, class).
function M.class()
  local C = {}
  C.__index = C

  --- The core's raw counts, as it keeps them.
  function C:snapshot() return self.collector:snapshot() end

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
