--- Metrics: bpfiter's walks and collectors as metric families, for
-- Prometheus (OpenMetrics text or the 0.0.4 text format), node_exporter's
-- textfile collector, or a Lua host's own HTTP server.
--
--   local metrics = require "bpfiter.metrics"
--   local m = metrics.new { collectors = { "tasks", "sockets" } }
--   local families = m:collect()      -- walks fresh every call
--   io.write(metrics.openmetrics(families))
--   m:close()
--
-- A family is {name =, type = "gauge"|"counter"|"histogram", unit =, help =,
-- samples = {{labels = {{name, value}, ...}, value =}, ...}}; a histogram
-- sample has buckets = {{le, cumulative count}, ...}, sum = and count =
-- instead of value. Families are listed in the order collectors run.
local bpfiter = require "bpfiter"
local format = require "bpfiter.format"

local M = {}

local EINVAL = 22

--- Every collector, in the order they run; `default` ones run when the
-- caller names none. page_cache walks every cached inode (about 4 µs per
-- cached file here), so it is opt-in: a fleet scrapes often.
M.collectors = {
  { name = "tasks", default = true, help = "Threads by scheduler state" },
  { name = "open_files", default = true, help = "Open file descriptors by kind" },
  { name = "sockets", default = true, help = "Sockets by protocol and state" },
  { name = "cgroup_cpu_wait", default = true,
    help = "Run-queue wait per cgroup v2 cgroup, since the collector started" },
  { name = "page_cache", default = false,
    help = "Page cache by file: the top N files, and the rest as one remainder" },
}

local KNOWN = {}
for _, c in ipairs(M.collectors) do KNOWN[c.name] = c end

-- Run-queue waits are kept in log2 buckets of nanoseconds: bucket k holds
-- [2^k, 2^(k+1)). Exposed bounds are 2^(k+1) ns for k in this range (about
-- 1 µs to 17 s), everything else folds into the neighbouring bucket or +Inf.
local WAIT_BUCKETS = { first = 9, last = 33 }

local function label(name, value) return { name, tostring(value) } end

local function counts_family(name, help, counts, label_names)
  local samples = {}
  for key, n in pairs(counts) do
    local labels = {}
    for i, l in ipairs(label_names) do labels[i] = label(l, key[i]) end
    samples[#samples + 1] = { labels = labels, value = n }
  end
  table.sort(samples, function(a, b)
    for i = 1, #a.labels do
      if a.labels[i][2] ~= b.labels[i][2] then return a.labels[i][2] < b.labels[i][2] end
    end
    return false
  end)
  return { name = name, type = "gauge", help = help, samples = samples }
end

-- Counts records of a walk by the key parts keyof returns, into counts
-- (keys are interned per distinct key string).
local function count_walk(counts, keys, step, it, closing, keyof)
  local _ <close> = closing
  for r in step, it do
    local parts = { keyof(r) }
    local id = table.concat(parts, "\0")
    local key = keys[id]
    if not key then
      key = parts
      keys[id] = key
    end
    counts[key] = (counts[key] or 0) + 1
  end
end

local function walk(name, opts)
  local step, it, errno, closing = bpfiter[name](opts)
  if not step then error({ message = it, errno = errno }, 0) end
  return step, it, closing
end

local collect = {}

function collect.tasks()
  local counts, keys = {}, {}
  local step, it, closing = walk("tasks", { threads = true })
  count_walk(counts, keys, step, it, closing, function(t) return t.state end)
  return { counts_family("bpfiter_tasks", "Threads by scheduler state (as ps shows it)",
    counts, { "state" }) }
end

function collect.open_files()
  local counts, keys = {}, {}
  local step, it, closing = walk("files", nil)
  count_walk(counts, keys, step, it, closing, function(f) return f.kind end)
  return { counts_family("bpfiter_open_files", "Open file descriptors by kind",
    counts, { "kind" }) }
end

function collect.sockets()
  local counts, keys = {}, {}
  for _, proto in ipairs { "tcp", "udp", "unix" } do
    local step, it, closing = walk(proto, nil)
    count_walk(counts, keys, step, it, closing,
      function(s) return proto, s.state or "UNKNOWN" end)
  end
  -- netlink sockets have no state; ss shows them as UNCONN
  local step, it, closing = walk("netlink", nil)
  count_walk(counts, keys, step, it, closing, function() return "netlink", "UNCONN" end)
  return { counts_family("bpfiter_sockets", "Sockets by protocol and state (as ss names them)",
    counts, { "protocol", "state" }) }
end

function collect.page_cache(self)
  local files, total = {}, 0
  local step, it, closing = walk("cached_files", nil)
  do
    local _ <close> = closing
    for c in step, it do
      local bytes = c.cached * bpfiter.page_size
      total = total + bytes
      files[#files + 1] = { bytes = bytes, c = c }
    end
  end
  table.sort(files, function(a, b) return a.bytes > b.bytes end)
  local samples, top = {}, 0
  for i = 1, math.min(self.top, #files) do
    local c = files[i].c
    -- A file without a path (deleted, or on a filesystem mounted nowhere
    -- this process sees) is named by its device and inode.
    local name = c.path or ("[%d:%d inode %d]"):format(c.major, c.minor, c.inode)
    samples[i] = { labels = { label("file", name) }, value = files[i].bytes }
    top = top + files[i].bytes
  end
  -- Paths start with "/" or "[", so this label cannot name a real file.
  samples[#samples + 1] = { labels = { label("file", "(other)") }, value = total - top }
  return { { name = "bpfiter_page_cache_bytes", type = "gauge", unit = "bytes",
    help = ("Page cache by file: the top %d files by cached bytes, and \"(other)\" "
      .. "for the rest, so the samples sum to the page cache the walk saw"):format(self.top),
    samples = samples } }
end

-- Starts the run-queue wait collector once; raises {message, errno}.
local function start_cpu_wait(self)
  if self.cpu_wait then return end
  -- the cgroups walk's default root: the cgroup v2 hierarchy's
  local c, msg, errno = bpfiter.cpu_wait { order = "pre", recursive = true }
  if not c then error({ message = msg, errno = errno }, 0) end
  self.cpu_wait = c
end

function collect.cgroup_cpu_wait(self)
  start_cpu_wait(self)
  local rows, msg, errno = self.cpu_wait:read()
  if not rows then error({ message = msg, errno = errno }, 0) end
  -- Bounded cardinality: cgroups down to max_depth, the top N by waits.
  local chosen = {}
  for _, r in ipairs(rows) do
    if r.level <= self.cgroup_depth and r.waits > 0 then chosen[#chosen + 1] = r end
  end
  table.sort(chosen, function(a, b) return a.waits > b.waits end)
  local samples = {}
  for i = 1, math.min(self.cgroups, #chosen) do
    local r = chosen[i]
    local buckets, seen = {}, 0
    for k = 0, WAIT_BUCKETS.last do
      seen = seen + (r.wait_hist[k] or 0)
      if k >= WAIT_BUCKETS.first then
        buckets[#buckets + 1] = { 2.0 ^ (k + 1) / 1e9, seen }
      end
    end
    buckets[#buckets + 1] = { math.huge, r.waits }
    samples[i] = { labels = { label("cgroup", r.path ~= "" and r.path or "/") },
      buckets = buckets, sum = r.wait_total_ns / 1e9, count = r.waits }
  end
  table.sort(samples, function(a, b) return a.labels[1][2] < b.labels[1][2] end)
  return { { name = "bpfiter_cgroup_cpu_wait_seconds", type = "histogram", unit = "seconds",
    help = ("Time runnable threads waited for a CPU, per cgroup v2 cgroup (its "
      .. "descendants included) since the collector started; the %d cgroups with most "
      .. "waits down to depth %d"):format(self.cgroups, self.cgroup_depth),
    samples = samples } }
end

local Metrics = {}
Metrics.__index = Metrics

local function check_options(opts)
  local function bad(fmt, ...)
    error(("bad argument #1 to 'metrics' (" .. fmt .. ")"):format(...), 0)
  end
  opts = opts or {}
  if type(opts) ~= "table" then bad("table expected, got %s", type(opts)) end
  local allowed = { collectors = true, top = true, cgroups = true, cgroup_depth = true }
  for k in pairs(opts) do
    if not allowed[k] then bad("unknown option '%s'", tostring(k)) end
  end
  for _, k in ipairs { "top", "cgroups", "cgroup_depth" } do
    local v = opts[k]
    if v ~= nil and (math.type(v) ~= "integer" or v < 0 or v > 100000) then
      bad("option '%s' must be an integer from 0 to 100000, got %s", k, tostring(v))
    end
  end
  local names = {}
  if opts.collectors == nil then
    for _, c in ipairs(M.collectors) do if c.default then names[#names + 1] = c.name end end
  elseif type(opts.collectors) ~= "table" then
    bad("option 'collectors' must be a list of names, got %s", type(opts.collectors))
  else
    local seen = {}
    for i, name in ipairs(opts.collectors) do
      if not KNOWN[name] then bad("unknown collector '%s'", tostring(name)) end
      if not seen[name] then names[#names + 1] = name end
      seen[name] = i
    end
  end
  return names
end

--- metrics.new{collectors = {...}, top = 20, cgroups = 50, cgroup_depth = 3}
-- -> a metrics source. Its programs are loaded once and reused by every
-- collect(); the run-queue wait collector starts here and accumulates, so
-- its histograms are cumulative counts as Prometheus expects.
function M.new(opts)
  local names = check_options(opts)
  opts = opts or {}
  local m = setmetatable({
    names = names,
    top = opts.top or 20,
    cgroups = opts.cgroups or 50,
    cgroup_depth = opts.cgroup_depth or 3,
    errors = {},     -- collector -> errors since new()
    last_error = {}, -- collector -> message of its last failure
  }, Metrics)
  -- Collecting waits starts now, so the first scrape already has some; a
  -- failure here comes again, and is counted, at collect().
  for _, name in ipairs(names) do
    if name == "cgroup_cpu_wait" then pcall(start_cpu_wait, m) end
  end
  return m
end

--- Runs every collector once; returns the families. A collector that fails
-- (no privilege, the kernel lacks its target) adds to
-- bpfiter_scrape_errors_total and leaves its families out; the others still
-- export. The failures of this call are the second value, name -> message.
function Metrics:collect()
  local families, durations, failed = {}, {}, {}
  for _, name in ipairs(self.names) do
    local t0 = os.clock()
    local ok, result = pcall(collect[name], self)
    durations[#durations + 1] = { labels = { label("collector", name) }, value = os.clock() - t0 }
    self.errors[name] = (self.errors[name] or 0) + (ok and 0 or 1)
    if ok then
      for _, f in ipairs(result) do families[#families + 1] = f end
    else
      failed[name] = type(result) == "table" and result.message or tostring(result)
      self.last_error[name] = failed[name]
    end
  end
  local errors = {}
  for _, name in ipairs(self.names) do
    errors[#errors + 1] = { labels = { label("collector", name) }, value = self.errors[name] }
  end
  families[#families + 1] = { name = "bpfiter_scrape_duration_seconds", type = "gauge",
    unit = "seconds", help = "CPU time each collector took in this scrape", samples = durations }
  families[#families + 1] = { name = "bpfiter_scrape_errors", type = "counter",
    help = "Scrapes in which the collector failed", samples = errors }
  return families, failed
end

--- Stops the run-queue wait collector, if one runs; safe twice.
function Metrics:close()
  if self.cpu_wait then self.cpu_wait:close() end
  self.cpu_wait = nil
end
Metrics.__close = Metrics.close
Metrics.__gc = Metrics.close

--- One-shot: bpfiter.metrics{collectors =, top =, cgroups =, cgroup_depth =,
-- window = 1} collects once and returns the families (and the failures).
-- The run-queue wait histograms cover `window` seconds, during which this
-- call sleeps (only when cgroup_cpu_wait is collected).
function M.collect(opts)
  local window = opts and opts.window
  if window ~= nil and (type(window) ~= "number" or not (window > 0 and window <= 3600)) then
    error(("bad argument #1 to 'metrics' (option 'window' must be seconds from 0 to 3600, got %s)")
      :format(tostring(window)), 0)
  end
  local rest = {}
  for k, v in pairs(opts or {}) do if k ~= "window" then rest[k] = v end end
  local m <close> = M.new(rest)
  if m.cpu_wait then m.cpu_wait:wait(window or 1) end
  return m:collect()
end

-- ---- exposition ----

local function escape_label(v)
  return (v:gsub("[\\\n\"]", { ["\\"] = "\\\\", ["\n"] = "\\n", ['"'] = '\\"' }))
end

local function escape_help(v)
  return (v:gsub("[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

-- Label values must be UTF-8: bytes that are not are written as \xHH
-- (two backslashes in the exposition), so no scraper rejects the page.
local function same(run) return run end
local function hex_byte(b) return ("\\x%02x"):format(b:byte()) end
local function utf8_label(v)
  return format.utf8_map(v, same, hex_byte)
end

local function format_value(v)
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v ~= v then return "NaN" end
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
  for digits = 6, 17 do -- the shortest form that reads back as the same number
    local s = ("%." .. digits .. "g"):format(v)
    if tonumber(s) == v then return s end
  end
end

local function labelset(labels, extra)
  local parts = {}
  for _, l in ipairs(labels) do
    parts[#parts + 1] = ('%s="%s"'):format(l[1], escape_label(utf8_label(l[2])))
  end
  if extra then parts[#parts + 1] = extra end
  if #parts == 0 then return "" end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function expose(families, openmetrics)
  local out = {}
  local function w(s) out[#out + 1] = s end
  for _, f in ipairs(families) do
    local total = f.type == "counter" and "_total" or ""
    local header = openmetrics and f.name or f.name .. total
    w(("# HELP %s %s\n"):format(header, escape_help(f.help)))
    w(("# TYPE %s %s\n"):format(header, f.type))
    if openmetrics and f.unit then w(("# UNIT %s %s\n"):format(f.name, f.unit)) end
    for _, s in ipairs(f.samples) do
      if f.type == "histogram" then
        for _, b in ipairs(s.buckets) do
          w(("%s_bucket%s %s\n"):format(f.name, labelset(s.labels, ('le="%s"'):format(format_value(b[1]))),
            format_value(b[2])))
        end
        w(("%s_count%s %s\n"):format(f.name, labelset(s.labels), format_value(s.count)))
        w(("%s_sum%s %s\n"):format(f.name, labelset(s.labels), format_value(s.sum)))
      else
        w(("%s%s%s %s\n"):format(f.name, total, labelset(s.labels), format_value(s.value)))
      end
    end
  end
  if openmetrics then w("# EOF\n") end
  return table.concat(out)
end

--- The families as an OpenMetrics 1.0 text exposition (ends with "# EOF").
function M.openmetrics(families) return expose(families, true) end

--- The families in the Prometheus text format 0.0.4.
function M.prometheus_text(families) return expose(families, false) end

M.CONTENT_TYPE = {
  openmetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8",
  text = "text/plain; version=0.0.4; charset=utf-8",
}

M.EINVAL = EINVAL

return M
