--- Page-cache activity per inode: the C core's collector (core.cache_activity,
-- three tp_btf programs counting into LRU hash maps keyed by (device, inode
-- number, i_generation)) turned here into rows: the top processes per inode,
-- what the bounded tables dropped, and a join with page-cache walks.
-- bpfiter.cache_activity, bpfiter.cache_activity_collector and
-- bpfiter.cache_activity_join load this file on first use; the C side is
-- csrc/collectors/cache_activity.c.
local core = require "bpfiter.core"

local M = {}

local DEFAULT_TOP = 5

--- Names of a row's fields, in display order.
M.fields = { "dev", "major", "minor", "inode", "generation", "added", "removed",
  "evicted", "refaults", "dirtied", "tasks" }

local collector_base = require "bpfiter.collector"

local function table_size(v)
  if math.type(v) ~= "integer" or v < 1 or v > 16777216 then
    return "an integer in 1..16777216, got " .. tostring(v)
  end
end

local OPTIONS = {
  max_inodes = table_size, max_ghosts = table_size, max_tasks = table_size,
  top = function(v)
    if math.type(v) ~= "integer" or v < 0 then return "a non-negative integer, got " .. tostring(v) end
  end,
}

local function by_pages(a, b)
  if a.pages ~= b.pages then return a.pages > b.pages end
  return a.pid < b.pid
end

local function by_added(a, b)
  if a.added ~= b.added then return a.added > b.added end
  if a.removed ~= b.removed then return a.removed > b.removed end
  if a.dev ~= b.dev then return a.dev < b.dev end
  return a.inode < b.inode
end

--- What the bounded tables lost, from the core's counters and the rows
-- read: the LRU tables evict silently, so evicted = created - still there.
local function losses(counters)
  local c = counters
  local info = {
    inodes_evicted = math.max(0, c.inodes_created - c.inodes_present),
    events_lost = c.inodes_lost,
    ghosts_evicted = math.max(0, c.ghosts_created - c.ghost_hits - c.ghosts_present),
    tasks_evicted = math.max(0, c.fillers_created - c.fillers_present),
    tasks_lost = c.fillers_lost,
    max_inodes = c.max_inodes, max_ghosts = c.max_ghosts, max_tasks = c.max_fillers,
  }
  return info.inodes_evicted + info.events_lost, info
end

local Collector = collector_base.class()

--- One row per inode with activity since the start or the last reset(),
-- most pages added first: dev, major, minor, inode, generation, added,
-- removed, evicted, refaults, dirtied (pages) and tasks, the `top`
-- processes that added most of its pages ({pid =, comm =, pages =}, most
-- first). Second value: dropped, inode entries or events lost because the
-- inode table was full (0: every row is complete). Third: details of what
-- each bounded table lost ({inodes_evicted =, events_lost =,
-- ghosts_evicted =, tasks_evicted =, tasks_lost =, max_inodes =, ...}).
function Collector:read()
  local rows, counters, errno = self.collector:snapshot()
  if not rows then return nil, counters, errno end
  local top = self.top
  for _, row in ipairs(rows) do
    local tasks = row.tasks
    table.sort(tasks, by_pages)
    for i = #tasks, top + 1, -1 do tasks[i] = nil end
  end
  table.sort(rows, by_added)
  local dropped, info = losses(counters)
  return rows, dropped, info
end


--- bpfiter.cache_activity_collector{top = 5, max_inodes = 16384,
-- max_ghosts = 131072, max_tasks = 32768} -> collector, or nil, message,
-- errno. Collecting starts at once. top: processes kept per row by read().
-- max_*: sizes of the inode, eviction-memory and (inode, process) tables.
function M.collector(opts)
  opts = collector_base.check_options("cache_activity_collector", opts, OPTIONS, false)
  local collector, msg, errno = core.cache_activity(opts.max_inodes, opts.max_ghosts,
    opts.max_tasks)
  if not collector then return nil, msg, errno end
  return setmetatable({ collector = collector, top = opts.top or DEFAULT_TOP }, Collector)
end

--- bpfiter.cache_activity{duration = 1, top =, max_*} : collects for
-- `duration` seconds, then returns read()'s rows, dropped and details, or
-- nil, message, errno.
function M.cache_activity(opts)
  opts = collector_base.check_options("cache_activity", opts, OPTIONS, true)
  local c, msg, errno = M.collector { top = opts.top, max_inodes = opts.max_inodes,
    max_ghosts = opts.max_ghosts, max_tasks = opts.max_tasks }
  if not c then return nil, msg, errno end
  local _ <close> = c
  c:wait(opts.duration or 1)
  return c:read()
end

--- bpfiter.cache_activity_join(rows, records...) -> rows, matched.
-- Sets row.cached to the record of `records` for the same inode: same dev
-- and inode, and the same generation when the record has one (records of
-- bpfiter.cached_files{} do; bpfiter.files{} records do not, and then
-- match on dev and inode alone). `records` is an array of records or what
-- a generic for takes (bpfiter.cached_files{} as is, its to-be-closed
-- value honoured: the walk is closed when the join ends or fails). The
-- first matching record wins. Rows without a match keep row.cached nil.
function M.join(rows, step, state, init, closing)
  if type(rows) ~= "table" then
    error(("bad argument #1 to 'cache_activity_join' (table expected, got %s)"):format(type(rows)), 2)
  end
  local kind = type(step)
  if kind ~= "table" and kind ~= "function" then
    error(("bad argument #2 to 'cache_activity_join' (array or iterator expected, got %s)")
      :format(kind == "nil" and "no value" or kind), 2)
  end
  local index = {}
  for _, row in ipairs(rows) do index[row.dev .. ":" .. row.inode] = row end
  local matched = 0
  local function visit(rec)
    local row = rec.dev and rec.inode and index[rec.dev .. ":" .. rec.inode]
    if row and row.cached == nil and (rec.generation == nil or rec.generation == row.generation) then
      row.cached = rec
      matched = matched + 1
    end
  end
  if kind == "table" then
    for _, rec in ipairs(step) do visit(rec) end
  else
    local _ <close> = closing
    for rec in step, state, init do visit(rec) end
  end
  return rows, matched
end

return M
