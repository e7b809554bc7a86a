--- bpfiter: live kernel objects as Lua values, through BPF iterators.
--
-- Every walk (tasks, files, vmas, ...: one function per target, listed
-- under "walks" with its options and its records' fields, generated from
-- the C declarations) follows one convention:
--
-- * programmer errors (wrong argument type, unknown option, negative pid)
--   raise "bad argument #1 to 'tasks' (...)";
-- * environmental failures (no privilege, pid gone, kernel lacks the
--   target) return nil, message, errno;
-- * on success it returns the generic-for quadruple
--   step, iterator, nil, iterator: the last one is the to-be-closed
--   value, so `break`, errors and garbage collection release the kernel
--   link and fds at once;
-- * errors in the middle of a walk (the kernel failing a read) raise.
--
-- Units: sizes are bytes, durations and times nanoseconds (the `_ns`
-- suffix), page counts pages of `page_size` bytes where a field's unit
-- says so; field_info gives each field's unit.
--
-- Doc comments here are LDoc's; tools/gendocs.lua also reads their
-- `@tparam`/`@treturn` lines for the LuaCATS file (docs/bpfiter.d.lua), so
-- types are written as LuaCATS types.
-- @module bpfiter
local core = require "bpfiter.core"

local M = {
  version = core.version,
  --- Bytes in a page, what the page-cache counts (cached, dirty, ...) count.
  page_size = core.page_size,
  --- Names of the targets this build decodes, in table order.
  target_names = core.targets,
  --- fields[target]: the field names its records can have, in order.
  fields = core.fields,
  --- field_info[target]: {{name =, type = (LuaCATS), unit = "bytes"|"ns"|"pages"|"count"|"",
  -- help = (one line)}, ...} in the order of fields[target].
  field_info = core.field_info,
  --- target_help[target]: one line, what one record is.
  target_help = core.target_help,
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
  -- or nil, message, errno; program_info(target [, opts]) -> {id =, cached =}
  -- for the program this Lua state holds for a walk of target with opts
  -- (the variant its fields option asks for), or nil.
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

--- Pins a view of a target in bpffs: its kernel options fixed, readable by
-- whoever the file mode lets in, without BPF privileges (see `open`).
-- @function pin
-- @tparam string target a target name (not a ring target: epoll, unix, pagecache, cached_files)
-- @tparam string path the new bpffs entry
-- @tparam[opt] table opts the target's kernel-scope options
-- @tparam[opt] string|integer mode "0640" or an integer; default "0600"
-- @treturn true|nil true, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno

--- Opens a pinned view: the same records as the live walk, as any user
-- the file mode lets in.
-- @function open
-- @tparam string path a view made by `pin`
-- @tparam[opt] table opts reader-scope options only (e.g. threads)
-- @treturn function|nil step, or nil on failure
-- @treturn bpfiter.iterator|string iterator, or the message
-- @treturn ?integer errno on failure
-- @treturn ?bpfiter.iterator the to-be-closed value

--- Removes a bpfiter view from bpffs; never follows symlinks.
-- @function unpin
-- @tparam string path the view
-- @tparam[opt] {force:boolean|nil} opts force = true: also remove another tool's entry there
-- @treturn true|nil true, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno

--- The verified-program cache: where it is, whether it is used, its entries.
-- @function program_cache
-- @treturn {dir:string,enabled:boolean,reason:string|nil,entries:table[]} the cache

--- Empties the verified-program cache.
-- @function program_cache_clear
-- @treturn integer|nil the number of entries removed, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno

--- The program this Lua state holds for a walk of a target: with a fields
-- option that leaves out fields costly to make in the kernel (paths, cmdline,
-- wchan), a variant without that work.
-- @function program_info
-- @tparam string target a target name
-- @tparam[opt] table opts the walk's options (only fields matters)
-- @treturn ?{id:integer,cached:boolean} nil when not loaded

--- Checks options for a target without walking.
-- @function check_options
-- @tparam string target a target name
-- @tparam[opt] table opts the options
-- @treturn ?string nil when they suit, else the message the walk would raise

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

--- Run-queue wait per cgroup: a collector, counting from now until closed
-- (lua/bpfiter/cpu_wait.lua, loaded on first use).
-- @tparam[opt] {root:string|integer|nil,order:string|nil,recursive:boolean|nil} opts the cgroups walk to join with
-- @treturn table|nil the collector (wait, read, reset, close), or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno
function M.cpu_wait(opts) return require("bpfiter.cpu_wait").cpu_wait(opts) end
--- Run-queue wait per cgroup, one shot: collects for `duration` seconds.
-- Rows are cgroups records plus waits (count) and wait_*_ns (ns).
-- @tparam[opt] {root:string|integer|nil,order:string|nil,recursive:boolean|nil,duration:number|nil} opts options of the walk and the collection
-- @treturn table[]|nil rows, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno
function M.cgroup_cpu_wait(opts) return require("bpfiter.cpu_wait").cgroup_cpu_wait(opts) end

--- One record per cached folio: the core's pagecache walk with paths as
-- this process sees them, and the path= and pid= options
-- (lua/bpfiter/pagecache.lua).
-- @tparam[opt] bpfiter.pagecache.options opts
-- @treturn bpfiter.pagecache.step|nil step, or nil on failure
-- @treturn bpfiter.iterator|string the iterator, or the message
-- @treturn ?integer errno on failure
-- @treturn ?bpfiter.iterator the to-be-closed value
function M.pagecache(opts) return require("bpfiter.pagecache").pagecache(opts) end
--- One record per inode with cached pages, as `pagecache`.
-- @tparam[opt] bpfiter.cached_files.options opts
-- @treturn bpfiter.cached_files.step|nil step, or nil on failure
-- @treturn bpfiter.iterator|string the iterator, or the message
-- @treturn ?integer errno on failure
-- @treturn ?bpfiter.iterator the to-be-closed value
function M.cached_files(opts) return require("bpfiter.pagecache").cached_files(opts) end

--- Joins across walks (lua/bpfiter/join.lua): socket owners as ss -p,
-- socket addresses on files records as lsof, CPU percentages as top.

--- One files walk: socket inode -> sorted pids holding it (ss -p).
-- @function socket_pids
-- @treturn table|nil inode -> {pid, ...}, or nil, message, errno

--- Sets `pids` on every socket record of a tcp/udp/unix/netlink walk.
-- @function add_pids
-- @tparam table[] records socket records
-- @treturn table[]|nil the records, or nil, message, errno

--- Sets the socket's protocol and addresses on a files walk's socket records.
-- @function add_socket_addresses
-- @tparam table[] records files records
-- @treturn table[]|nil the records, or nil, message, errno

--- Per-thread CPU percentages between two tasks walks (top).
-- @function cpu_percent
-- @tparam table[] previous the earlier tasks records
-- @tparam table[] current the later tasks records
-- @tparam number seconds the time between them
-- @treturn table[] the current records, with cpu_percent set
for _, name in ipairs { "socket_pids", "add_pids", "add_socket_addresses", "cpu_percent" } do
  M[name] = function(...) return require("bpfiter.join")[name](...) end
end

--- Metric families of this machine (lua/bpfiter/metrics.lua, loaded on
-- first use): bpfiter.metrics{collectors =, top =, cgroups =, cgroup_depth =,
-- window =} -> families, failures. For a long-lived source (a server), use
-- require("bpfiter.metrics").new{...}:collect().
-- @tparam[opt] {collectors:string[]|nil,top:integer|nil,cgroups:boolean|nil,cgroup_depth:integer|nil,window:number|nil} opts
-- @treturn table[] metric families
-- @treturn table[] failures: what could not be collected
function M.metrics(opts) return require("bpfiter.metrics").collect(opts) end

-- Page-cache activity per inode (lua/bpfiter/cache_activity.lua, loaded on first
-- use): cache_activity{duration =} collects for a while and returns rows;
-- cache_activity_collector{} is the collector; cache_activity_join(rows,
-- records) joins rows with a page-cache walk on (dev, inode, generation).

--- Collects page-cache activity per inode for a while.
-- @function cache_activity
-- @tparam[opt] {duration:number|nil,top:integer|nil} opts
-- @treturn table[]|nil rows, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno

--- The page-cache activity collector, counting from now until closed.
-- @function cache_activity_collector
-- @tparam[opt] table opts
-- @treturn table|nil the collector, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno

--- Joins activity rows with page-cache records on (dev, inode, generation).
-- @function cache_activity_join
-- @tparam table[] rows from cache_activity
-- @tparam table[] records cached_files records
-- @treturn table[] the rows, with the records' fields
for name, f in pairs { cache_activity = "cache_activity", cache_activity_collector = "collector", cache_activity_join = "join" } do M[name] = function(...) return require("bpfiter.cache_activity")[f](...) end end

--- The iterator targets the running kernel offers, read from its BTF, sorted
-- by the kernel's name, then those this build decodes but the kernel lacks
-- (offered = false), or nil, message, errno:
-- {name = "task", offered = true, context = {"task"}, decoded = true,
--  bpfiter = {{name = "tasks", available = true,
--              options = {{name =, type =, scope =, ...}, ...}}}}
-- (options: copies of bpfiter.options[name])
-- `context` names what a program for the target receives; `bpfiter` lists
-- the functions here that decode it (empty: none, decoded = false), each
-- with whether its program loads on this kernel (available; loading it
-- once) and, when not, the reason ("needs kernel >= 6.4 (...)").
-- @function targets
-- @treturn table[]|nil the kernel's targets, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno
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
      local ok, reason = core.available(name)
      t.bpfiter[i] = { name = name, options = options, available = ok, reason = reason }
    end
    t.decoded = #t.bpfiter > 0
  end
  return list
end

M.targets = discover

--- Whether a target's program loads on this kernel (loading it once per
-- Lua state); the reason is what a walk's ENOTSUP says after "NAME: ",
-- e.g. "needs kernel >= 6.4 (...)".
-- @function available
-- @tparam string name a target name
-- @treturn boolean whether it loads here
-- @treturn ?string reason when it does not
M.available = core.available

--- map_elems(map): map is a map id or the path of a pinned map; the
-- options-table form map_elems{map = ...} works too, as for every target.
-- @tparam integer|string|bpfiter.map_elems.options map
-- @treturn bpfiter.map_elems.step|nil step, or nil on failure
-- @treturn bpfiter.iterator|string the iterator, or the message
-- @treturn ?integer errno on failure
-- @treturn ?bpfiter.iterator the to-be-closed value
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

local walks = {}
for _, name in ipairs(core.targets) do walks[name] = true end

--- Runs a target to completion and returns its records as an array, or
-- nil, message, errno when the walk cannot start.
-- @usage local procs = assert(bpfiter.collect("tasks", {threads = false}))
-- @tparam string target a name of target_names
-- @tparam[opt] table opts the target's options
-- @treturn table[]|nil the records, or nil, message, errno
-- @treturn ?string message
-- @treturn ?integer errno
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
