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
  --- options[target]: {name =, type = "integer"|"boolean"|..., scope =
  -- "kernel"|"reader"} for every option it accepts.
  options = core.options,
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

--- Run-queue wait per cgroup: a collector (cpu_wait) and a one-shot
-- (cgroup_cpu_wait), in lua/bpfiter/cpu_wait.lua, loaded on first use.
function M.cpu_wait(opts) return require("bpfiter.cpu_wait").cpu_wait(opts) end
function M.cgroup_cpu_wait(opts) return require("bpfiter.cpu_wait").cgroup_cpu_wait(opts) end

--- The page-cache walks (lua/bpfiter/pagecache.lua): the core's records
-- with paths as this process sees them, and the path= and pid= options.
function M.pagecache(opts) return require("bpfiter.pagecache").pagecache(opts) end
function M.cached_files(opts) return require("bpfiter.pagecache").cached_files(opts) end
for _, name in ipairs { "pagecache", "cached_files" } do
  local options = M.options[name]
  for i = #options, 1, -1 do -- file= is the core's, set from path=
    if options[i].name == "file" then table.remove(options, i) end
  end
  options[#options + 1] = { name = "path", type = "string", scope = "reader" }
  options[#options + 1] = { name = "pid", type = "integer", scope = "reader" }
end

--- Joins across walks (lua/bpfiter/join.lua): socket owners as ss -p,
-- socket addresses on files records as lsof, CPU percentages as top.
for _, name in ipairs { "socket_pids", "add_pids", "add_socket_addresses", "cpu_percent" } do
  M[name] = function(...) return require("bpfiter.join")[name](...) end
end

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
--  bpfiter = {{name = "tasks", options = {{name =, type =, scope =}, ...}}}}
-- `context` names what a program for the target receives; `bpfiter` lists
-- the functions here that decode it (empty: none, decoded = false).
local function discover()
  local list, msg, errno = core.discover()
  if not list then return nil, msg, errno end
  for _, t in ipairs(list) do
    for i, name in ipairs(t.bpfiter) do
      local options = {}
      for j, o in ipairs(core.options[name]) do
        options[j] = { name = o.name, type = o.type, scope = o.scope }
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
  local step, it, nothing, closing = core.map_elems(map)
  return step, it, nothing, closing
end

--- Runs a target to completion and returns its records as an array, or
-- nil, message, errno when the walk cannot start.
-- @usage local procs = assert(bpfiter.collect("tasks", {threads = false}))
function M.collect(target, opts)
  local open = M[target]
  if type(open) ~= "function" or not core[target] then
    error(("bad argument #1 to 'collect' (unknown target '%s')"):format(tostring(target)), 2)
  end
  local step, it, _, closing = open(opts)
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
