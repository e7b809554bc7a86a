--- bpfiter: live kernel objects as Lua values, through BPF iterators.
--
-- Every target function (tasks, files, vmas, ...) comes from the C core and
-- follows one convention:
--   * programmer errors (wrong argument type, unknown option, negative pid)
--     raise "bad argument #1 to 'tasks' (...)";
--   * environmental failures (no privilege, pid gone, kernel lacks the
--     target) return nil, message, errno;
--   * on success it returns the generic-for quadruple
--     step, iterator, nil, iterator — the last one is the to-be-closed
--     value, so `break`, errors and garbage collection release the kernel
--     link and fds at once.
--   * errors in the middle of a walk (the kernel failing a read) raise.
local core = require "bpfiter.core"

local M = {
  version = core.version,
  --- Bytes in a page, what the page-cache counts (cached, dirty, ...) count.
  page_size = core.page_size,
  --- Names of the targets this build decodes, in table order.
  target_names = core.targets,
  --- fields[target]: the field names its records can have, in order.
  fields = core.fields,
  --- options[target]: every option it accepts, as the core declares and
  -- checks it: {name =, type = "integer"|"boolean"|"string"|"integer|string",
  -- scope = "kernel"|"reader"|"lua", min =, max = (integers), words = {...}
  -- (strings taking only these), required =, arg = (the value's name in
  -- help), help = (one line, with the unit)}. The CLI, its help and the
  -- docs are generated from it.
  options = core.options,
  --- check_options(target, opts): nil when opts suit bpfiter[target], else
  -- what is wrong (the check every walk makes, without the walk).
  check_options = core.check_options,
  --- The verified-program cache (csrc/core/program_cache.c):
  -- program_cache() -> {dir =, enabled =, reason =, entries = {{target =,
  -- file =, id =, name =, tag =}}}; program_cache_clear() -> number removed
  -- or nil, message, errno; program_info(target) -> {id =, cached =} for a
  -- program this Lua state holds, or nil.
  program_cache = core.program_cache,
  program_cache_clear = core.program_cache_clear,
  program_info = core.program_info,
  pin = core.pin,
  open = core.open,
  unpin = core.unpin,
}

for _, name in ipairs(core.targets) do
  M[name] = core[name]
end

-- The socket walks take netns = (one namespace, or "all"), resolved in
-- lua/bpfiter/netns.lua (loaded on first use); without it, the core walk.
-- Argument errors are raised here, so that they name the function called.
for _, name in ipairs { "tcp", "udp", "unix", "netlink" } do
  local walk = core[name]
  M[name] = function(opts)
    if opts ~= nil and type(opts) ~= "table" then
      error(("bad argument #1 to '%s' (table expected, got %s)"):format(name, type(opts)), 2)
    end
    local problem = core.check_options(name, opts)
    if problem then error(("bad argument #1 to '%s' (%s)"):format(name, problem), 2) end
    if opts and opts.netns ~= nil then return require("bpfiter.netns").walk(name, opts) end
    return walk(opts)
  end
end

--- Run-queue wait per cgroup: a collector (cpu_wait) and a one-shot
-- (cgroup_cpu_wait), in lua/bpfiter/cpu_wait.lua, loaded on first use.
function M.cpu_wait(opts) return require("bpfiter.cpu_wait").cpu_wait(opts) end
function M.cgroup_cpu_wait(opts) return require("bpfiter.cpu_wait").cgroup_cpu_wait(opts) end

--- The page-cache walks (lua/bpfiter/pagecache.lua): the core's records
-- with paths as this process sees them, and the path= and pid= options.
function M.pagecache(opts) return require("bpfiter.pagecache").pagecache(opts) end
function M.cached_files(opts) return require("bpfiter.pagecache").cached_files(opts) end

--- Metric families of this machine (lua/bpfiter/metrics.lua, loaded on
-- first use): bpfiter.metrics{collectors =, top =, cgroups =, cgroup_depth =,
-- window =} -> families, failures. For a long-lived source (a server), use
-- require("bpfiter.metrics").new{...}:collect().
function M.metrics(opts) return require("bpfiter.metrics").collect(opts) end

--- Page-cache activity per inode (lua/bpfiter/cache_activity.lua, loaded on first
-- use): cache_activity{duration =} collects for a while and returns rows;
-- cache_activity_collector{} is the collector; cache_activity_join(rows,
-- records) joins rows with a page-cache walk on (dev, inode, generation).
for name, f in pairs { cache_activity = "cache_activity", cache_activity_collector = "collector", cache_activity_join = "join" } do M[name] = function(...) return require("bpfiter.cache_activity")[f](...) end end

--- The iterator targets the running kernel offers, read from its BTF, sorted
-- by the kernel's name, or nil, message, errno:
-- {name = "task", context = {"task"}, decoded = true,
--  bpfiter = {{name = "tasks", options = {{name =, type =, scope =, ...}, ...}}}}
-- (options: copies of bpfiter.options[name])
-- `context` names what a program for the target receives; `bpfiter` lists
-- the functions here that decode it (empty: none, decoded = false).
local function discover()
  local list, msg, errno = core.discover()
  if not list then return nil, msg, errno end
  for _, t in ipairs(list) do
    for i, name in ipairs(t.bpfiter) do
      local options = {}
      for j, o in ipairs(core.options[name]) do
        options[j] = {}
        for k, v in pairs(o) do
          options[j][k] = type(v) == "table" and table.move(v, 1, #v, 1, {}) or v
        end
      end
      t.bpfiter[i] = { name = name, options = options }
    end
    t.decoded = #t.bpfiter > 0
  end
  return list
end

M.targets = discover

--- map_elems(map): map is a map id or the path of a pinned map; the
-- options-table form map_elems{map = ...} works too, as for every target.
function M.map_elems(map)
  local kind = math.type(map) or type(map)
  if kind == "integer" or kind == "string" then
    map = { map = map }
  elseif kind ~= "table" and kind ~= "nil" then
    error(("bad argument #1 to 'map_elems' (map id or pinned path expected, got %s)")
      :format(kind), 2)
  end
  -- checked here, so that an error names the caller's line, not this one
  local problem = core.check_options("map_elems", map or {})
  if problem then error(("bad argument #1 to 'map_elems' (%s)"):format(problem), 2) end
  local step, it, nothing, closing = core.map_elems(map)
  return step, it, nothing, closing
end

--- Runs a target to completion and returns its records as an array, or
-- nil, message, errno when the walk cannot start.
-- @usage local procs = assert(bpfiter.collect("tasks", {threads = false}))
local walks = {}
for _, name in ipairs(core.targets) do walks[name] = true end

function M.collect(target, opts)
  if not walks[target] then
    error(("bad argument #1 to 'collect' (%s is not a walk; bpfiter.target_names lists them)")
      :format(type(target) == "string" and ("'%s'"):format(target) or type(target)), 2)
  end
  -- Checked before the walk, so that an error names collect and the
  -- caller's line, not a line of this file.
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #2 to 'collect' (table expected, got %s)"):format(type(opts)), 2)
  end
  local problem = core.check_options(target, opts)
  if problem then error(("bad argument #2 to 'collect' (%s)"):format(problem), 2) end
  local step, it, _, closing = M[target](opts)
  if not step then return nil, it, _ end
  local out, n = {}, 0
  do
    local _ <close> = closing
    for rec in step, it do
      n = n + 1
      out[n] = rec
    end
  end
  return out
end

return M
