--- Run-queue wait per cgroup: the C core's collector (core.cpu_wait, three
-- tp_btf programs filling log2 histograms per cgroup v2 id) joined here with
-- a walk of bpfiter.cgroups, and turned into count, mean and percentiles.
-- bpfiter.cpu_wait and bpfiter.cgroup_cpu_wait load this file on first use;
-- the C side is csrc/collectors/cpu_wait.c.
local core = require "bpfiter.core"

local M = {}

local EINVAL = 22
local ORDERS = { pre = true, post = true, up = true, self = true }

--- The statistics of one histogram, as a row shows them (wait_* fields).
-- h = {count =, total_ns =, max_ns =, hist = {[k] = n}}, where hist[k]
-- counts waits of [2^k, 2^(k+1)) ns (k = 0 also takes 0 ns).
-- A quantile is the value at its rank, interpolated linearly inside the
-- log2 bucket holding that rank, and never above the largest wait seen:
-- it is exact to within its bucket, i.e. within a factor of 2.
function M.quantile(h, q)
  if h.count == 0 then return nil end
  local rank = math.max(1, math.ceil(q * h.count))
  local seen = 0
  for k = 0, 63 do
    local n = h.hist[k]
    if n and seen + n >= rank then
      local lo = k == 0 and 0 or 2 ^ k
      local value = lo + (2 ^ (k + 1) - lo) * (rank - seen) / n
      return math.min(math.floor(value), h.max_ns)
    end
    seen = seen + (n or 0)
  end
  return h.max_ns
end

local function empty() return { count = 0, total_ns = 0, max_ns = 0, hist = {} } end

local function merge(into, h)
  into.count = into.count + h.count
  into.total_ns = into.total_ns + h.total_ns
  if h.max_ns > into.max_ns then into.max_ns = h.max_ns end
  for k, n in pairs(h.hist) do into.hist[k] = (into.hist[k] or 0) + n end
end

local function add_stats(row, h)
  local n = h.count
  row.waits = n
  row.wait_total_ns = h.total_ns
  row.wait_hist = h.hist
  if n > 0 then
    row.wait_mean_ns = h.total_ns // n
    row.wait_p50_ns = M.quantile(h, 0.50)
    row.wait_p90_ns = M.quantile(h, 0.90)
    row.wait_p99_ns = M.quantile(h, 0.99)
    row.wait_max_ns = h.max_ns
  end
end

--- Names of the fields a row adds to the cgroup's, in display order.
M.fields = { "waits", "wait_mean_ns", "wait_p50_ns", "wait_p90_ns", "wait_p99_ns",
  "wait_max_ns", "wait_total_ns", "wait_hist" }

local collector_base = require "bpfiter.collector"

local OPTIONS = {
  root = function(v)
    if type(v) ~= "string" and math.type(v) ~= "integer" then
      return "an integer or a string, got " .. (math.type(v) or type(v))
    end
  end,
  order = function(v)
    if not ORDERS[v] then
      return '"pre", "post", "up" or "self", got ' .. (type(v) == "string" and ('"' .. v .. '"') or type(v))
    end
  end,
  recursive = function(v)
    if type(v) ~= "boolean" then return "a boolean, got " .. type(v) end
  end,
}

-- The cgroup walk rows are joined with: an array, or nil, message, errno.
local function walk(opts)
  local step, it, errno, closing = core.cgroups { root = opts.root, order = opts.order }
  if not step then return nil, it, errno end
  local rows = {}
  do
    local _ <close> = closing
    for r in step, it do rows[#rows + 1] = r end
  end
  return rows
end

local Collector = collector_base.class()

--- One row per cgroup of the walk (root and order as given to cpu_wait), in
-- walk order: the cgroup's fields plus waits, wait_mean_ns, wait_p50_ns,
-- wait_p90_ns, wait_p99_ns, wait_max_ns, wait_total_ns and wait_hist, over
-- everything collected since the start or the last reset(). Second value:
-- samples dropped because a map was full. nil, message, errno when the
-- walk cannot start (the root was removed).
function Collector:read()
  local snap, dropped = self.collector:snapshot()
  local rows, msg, errno = walk(self.opts)
  if not rows then return nil, msg, errno end
  local hists, index = {}, {}
  for i, row in ipairs(rows) do
    hists[i] = empty()
    if snap[row.id] then merge(hists[i], snap[row.id]) end
    index[row.id] = i
  end
  if self.opts.recursive then
    -- Each row's own samples go to every ancestor in the walk. Merging the
    -- own histograms (snap), not the running sums, counts each sample once.
    for _, row in ipairs(rows) do
      local own = snap[row.id]
      local up = index[row.parent_id]
      while own and up do
        merge(hists[up], own)
        up = index[rows[up].parent_id]
      end
    end
  end
  for i, row in ipairs(rows) do add_stats(row, hists[i]) end
  return rows, dropped
end


--- bpfiter.cpu_wait{root =, order =, recursive =} -> collector, or nil,
-- message, errno. Collecting starts at once. root and order select the
-- cgroups read() reports, as for bpfiter.cgroups; the root must be in the
-- cgroup v2 hierarchy (waits are kept per v2 cgroup). recursive = true:
-- each row also counts the waits of its descendants in the walk.
function M.cpu_wait(opts)
  opts = collector_base.check_options("cpu_wait", opts, OPTIONS, false)
  local rows, msg, errno = walk(opts)  -- a bad root fails here, not at read()
  if not rows then return nil, msg, errno end
  if rows[1] and rows[1].hierarchy_id ~= 0 then
    return nil, ("cpu_wait: root %s is in a cgroup v1 hierarchy; waits are kept per " ..
      "cgroup v2 cgroup"):format(tostring(opts.root)), EINVAL
  end
  local collector
  collector, msg, errno = core.cpu_wait()
  if not collector then return nil, msg, errno end
  return setmetatable({
    collector = collector,
    opts = { root = opts.root, order = opts.order, recursive = opts.recursive },
  }, Collector)
end

--- bpfiter.cgroup_cpu_wait{root =, order =, recursive =, duration = 1}:
-- collects for `duration` seconds, then returns collector:read()'s rows and
-- dropped count, or nil, message, errno.
function M.cgroup_cpu_wait(opts)
  opts = collector_base.check_options("cgroup_cpu_wait", opts, OPTIONS, true)
  local c, msg, errno = M.cpu_wait { root = opts.root, order = opts.order,
    recursive = opts.recursive }
  if not c then return nil, msg, errno end
  local _ <close> = c
  c:wait(opts.duration or 1)
  return c:read()
end

return M
