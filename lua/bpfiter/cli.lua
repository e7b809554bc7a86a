--- The `bpfiter` command: list one target's records as a table, CSV or
-- JSON, or print a report of the whole machine. main(argv) returns the exit
-- status: 0 success, 1 runtime failure, 2 usage error.
local format = require "bpfiter.format"
local cpu_wait -- defined below
local bpfiter -- loaded by main, so a missing core.so is reported like other failures

local M = {}

-- Page size of the page-cache counts: this system's, set by main.
local PAGE = 4096

local function hex(v) return ("0x%x"):format(v) end

-- Default table columns and table-only formatting per target; every field
-- (bpfiter.fields) is available with --fields. A target missing here shows
-- all its fields.
local columns = {
  tasks = { default = { "pid", "tgid", "ppid", "state", "comm", "nr_threads", "rss", "exe" } },
  files = { default = { "pid", "fd", "kind", "inode", "pos", "path" } },
  vmas = {
    default = { "pid", "start", "end", "perms", "offset", "inode", "path" },
    -- Addresses read best in hex, as in /proc/PID/maps; only the table does
    -- this, CSV and JSON keep numbers.
    show = { start = hex, ["end"] = hex, offset = hex, vm_flags = hex },
  },
  tcp = { default = { "state", "local_address", "local_port", "remote_address", "remote_port",
    "rx_queue", "tx_queue", "uid", "inode" } },
  unix = { default = { "type", "state", "rx_queue", "tx_queue", "inode", "peer_inode", "path" } },
  netlink = {
    default = { "protocol_name", "portid", "groups", "rx_queue", "tx_queue", "drops", "inode" },
    show = { groups = hex },
  },
}
columns.udp = columns.tcp
columns.epoll = { default = { "pid", "epfd", "tfd", "event_names", "data", "kind", "same_file", "path" },
  show = { data = hex } }
columns.cgroups = { default = { "id", "nr_procs", "nr_tasks", "nr_descendants", "populated",
  "frozen", "path" } }
columns.bpf_progs = { default = { "id", "type", "name", "tag", "jited_bytes", "map_ids" } }
columns.bpf_maps = { default = { "id", "type", "name", "key_size", "value_size", "max_entries", "flags" } }
columns.bpf_links = { default = { "id", "type", "prog_id", "attach_type", "target_name", "map_id" } }
columns.map_elems = { default = { "key", "value", "key_bytes", "value_bytes" } }
columns.pagecache = { default = { "index", "pages", "evicted", "dirty", "writeback", "active", "referenced",
  "mapped", "path" } }
columns.cached_files = { default = { "cached", "dirty", "writeback", "evicted", "mapped", "size", "fstype",
  "path" } }
columns.ksyms = { default = { "address_hex", "type", "name", "module" } }
columns.kmem_caches = { default = { "name", "active_objects", "total_objects", "object_size",
  "slot_size", "objects_per_slab", "pages_per_slab", "slabs" } }

local USAGE = [[
usage: bpfiter TARGET [options]     list kernel objects (TARGET: %s)
       bpfiter report               one-screen summary of this machine
       bpfiter targets [--json]     the kernel's iterator targets, and ours it lacks
       bpfiter cgroups --cpu-wait SECONDS [--root P] [--order O] [--recursive]
                                    run-queue wait per cgroup (count, mean, p50..max)
       bpfiter cache [--top N] [--path P] [--scope open] [--json|--csv]
                                    files ranked by page-cache use, system-wide
       bpfiter cache --pages PATH   one file's page map, as runs of pages
       bpfiter cache --activity SECONDS [--top N] [--json]
                                    who filled and evicted each file's cache
       bpfiter pin TARGET PATH [--mode 0640] [--OPTION V]   pin a view in bpffs
       bpfiter cat PATH [options]   read a pinned view (no BPF privileges needed)
       bpfiter unpin PATH           remove a pinned view
       bpfiter version
       bpfiter help [TARGET]        this text, or a target's fields

options (each target's own options are listed by bpfiter help TARGET):
  --pid N          only process N
  --threads        tasks: every thread (the default)
  --no-threads     tasks: one record per process (thread-group leaders)
  --OPTION VALUE   any option of the target (integers, strings);
  --OPTION, --no-OPTION   boolean options
  --json           JSON array of objects (all fields unless --fields)
  --csv            CSV with a header row (all fields unless --fields)
  --fields a,b,c   columns to show, in this order ("all" for every field)
  --sort F         sort by field F: numbers descending, text ascending;
                   -F forces descending, +F ascending
  --limit N        at most N records (after sorting)
  -h, --help       help

Exit status: 0 ok, 1 the kernel walk failed (no privilege, no such pid),
2 usage error. Needs root (CAP_BPF and CAP_PERFMON).
]]

-- Raised for bad command lines; main turns it into exit status 2.
local Usage = {}
local function usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end

local function usage_text()
  return USAGE:format(table.concat(bpfiter.target_names, ", "))
end

local function target_help(name)
  local lines = { ("usage: bpfiter %s [options]   (see bpfiter --help)"):format(name) }
  local opts = {}
  for _, o in ipairs(bpfiter.options[name]) do
    opts[#opts + 1] = o.type == "boolean" and ("--[no-]%s"):format(o.name)
      or ("--%s %s"):format(o.name, o.type:upper())
  end
  lines[#lines + 1] = "options: " .. (#opts > 0 and table.concat(opts, " ") or "(none)")
  lines[#lines + 1] = "fields:  " .. table.concat(bpfiter.fields[name], " ")
  local cols = columns[name]
  lines[#lines + 1] = "default: " .. table.concat(cols and cols.default or bpfiter.fields[name], " ")
  return table.concat(lines, "\n") .. "\n"
end

-- The target's option spec named by a command-line word like --pid.
local function target_option(target, name)
  if target == "cache" then target = "cached_files" end
  for _, o in ipairs(bpfiter.options[target] or {}) do
    if o.name == name then return o end
  end
end

local function is_target(name)
  for _, t in ipairs(bpfiter.target_names) do
    if t == name then return true end
  end
  return false
end

-- Integer in [lo, hi] from a command-line word, or a usage error.
local function integer_arg(option, word, lo, hi, what)
  local n = word:match("^%d+$") and math.tointeger(tonumber(word))
  if not n or n < lo or n > hi then usage_error("%s needs %s, got '%s'", option, what, word) end
  return n
end

local function parse(target, argv, first, pinning)
  local o = { format = "table", options = {}, pinning = pinning }
  local i = first
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local function value()
      if inline then return inline end
      i = i + 1
      if argv[i] == nil then usage_error("%s needs a value", name) end
      return argv[i]
    end
    local opt = name:match("^%-%-no%-(.+)$")
    local negated = opt ~= nil
    opt = target_option(target, opt or name:match("^%-%-(.+)$") or "")
    if name == "-h" or name == "--help" then
      o.help = true
    elseif opt and opt.type == "boolean" then
      if inline then usage_error("%s takes no value", name) end
      o.options[opt.name] = not negated
    elseif opt and not negated then
      local word = value()
      if opt.type == "string" or (opt.type == "integer|string" and not word:match("^%d+$")) then
        o.options[opt.name] = word
      else
        -- The kernel's PID_MAX_LIMIT is 4M; the core accepts up to 2^30-1.
        o.options[opt.name] = integer_arg(name, word, 1, 0x3fffffff, "a positive integer")
      end
    elseif target == "cgroups" and name == "--cpu-wait" then
      local seconds = tonumber(value())
      if not seconds or seconds <= 0 then usage_error("--cpu-wait needs a positive number of seconds") end
      o.cpu_wait = seconds
    elseif target == "cgroups" and name == "--recursive" then
      o.recursive = true
    elseif target == "cache" and name == "--top" then
      o.limit = integer_arg("--top", value(), 0, math.maxinteger, "a count (0 or more)")
    elseif target == "cache" and name == "--pages" then
      o.pages = value()
    elseif target == "cache" and name == "--activity" then
      local seconds = tonumber(value())
      if not seconds or seconds <= 0 then usage_error("--activity needs a positive number of seconds") end
      o.activity = seconds
    elseif o.pinning and name == "--mode" then
      o.mode = value()
      if not o.mode:match("^0?[0-7][0-7][0-7]$") then usage_error("--mode needs an octal mode like 0640") end
    elseif name == "--json" or name == "--csv" then
      if o.format ~= "table" then usage_error("choose one of --json and --csv") end
      o.format = name:sub(3)
    elseif name == "--fields" then
      o.fields = value()
    elseif name == "--sort" then
      o.sort = value()
    elseif name == "--limit" then
      o.limit = integer_arg("--limit", value(), 0, math.maxinteger, "a count (0 or more)")
    else
      usage_error("unknown option '%s' (see bpfiter --help)", a)
    end
    i = i + 1
  end
  return o
end

local function check_field(target, valid, f, option)
  for _, v in ipairs(valid) do
    if v == f then return f end
  end
  usage_error("%s: unknown %s field '%s'; valid fields: %s", option, target, f, table.concat(valid, " "))
end

local function select_fields(target, o, valid)
  if o.fields == "all" then return valid end
  if o.fields then
    local list = {}
    for f in o.fields:gmatch("[^,%s]+") do list[#list + 1] = check_field(target, valid, f, "--fields") end
    if #list == 0 then usage_error("--fields needs at least one field name") end
    return list
  end
  if o.format == "table" and columns[target] then return columns[target].default end
  return valid
end

local function rank(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return v
end

-- Sorts in place by one field; without a direction, numbers and booleans
-- (true first) go descending. Records missing the field go last, and ties
-- keep the kernel's walk order, so the output is the same run to run.
local function sort_records(records, field, direction)
  local order = {}
  for i, rec in ipairs(records) do order[rec] = i end
  if direction == nil then
    direction = "+"
    for _, rec in ipairs(records) do
      local v = rec[field]
      if v ~= nil then
        if type(v) ~= "string" then direction = "-" end
        break
      end
    end
  end
  table.sort(records, function(a, b)
    local x, y = rank(a[field]), rank(b[field])
    if x == y then return order[a] < order[b] end
    if x == nil then return false end
    if y == nil then return true end
    if direction == "-" then return x > y end
    return x < y
  end)
end

-- Microseconds read better than ns in a table; CSV and JSON keep ns.
local function usec(v) return ("%.1f"):format(v / 1000) end

local function write_records(target, o, records, valid)
  local fields = select_fields(target, o, valid)
  if o.sort then
    local direction, field = o.sort:match("^([+-]?)(.*)$")
    if field == "" then usage_error("--sort needs a field name") end
    sort_records(records, check_field(target, valid, field, "--sort"), direction ~= "" and direction or nil)
  end
  if o.limit then
    for i = #records, o.limit + 1, -1 do records[i] = nil end
  end
  local show = o.format == "table" and columns[target] and columns[target].show
  io.stdout:write(format[o.format](records, fields, show))
  return 0
end

-- bpfiter cgroups --cpu-wait SECONDS: collect, then one row per cgroup.
function cpu_wait(o)
  local stats = require "bpfiter.stats"
  local rows, err = bpfiter.cgroup_cpu_wait { root = o.options.root, order = o.options.order,
    recursive = o.recursive, duration = o.cpu_wait }
  if not rows then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  local cg = bpfiter.fields.cgroups
  local valid = table.move(stats.fields, 1, #stats.fields, #cg + 1, table.move(cg, 1, #cg, 1, {}))
  local view = { default = { "path", "waits", "wait_mean_ns", "wait_p50_ns", "wait_p90_ns",
    "wait_p99_ns", "wait_max_ns" }, show = {} }
  for _, f in ipairs(stats.fields) do
    if f:match("_ns$") then view.show[f] = usec end
  end
  columns["cgroups --cpu-wait"] = view
  if o.format == "table" then
    io.stdout:write("(wait times in microseconds)\n")
  end
  return write_records("cgroups --cpu-wait", o, rows, valid)
end

-- Runs a library call whose argument errors are the user's usage errors.
local function call(fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  local msg = tostring(a)
  if msg:match("^bad argument") then usage_error("%s", msg:match("%((.*)%)$") or msg) end
  error(a, 0)
end

-- bpfiter cache --pages PATH: the file's page map as runs of pages.
local function cache_pages(o)
  local runs, err = call(require("bpfiter.pagecache").page_runs, { path = o.pages, evicted = o.options.evicted })
  if not runs then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  local flags = { "evicted", "dirty", "writeback", "mapped", "active", "referenced", "workingset",
                  "unevictable", "locked" }
  for _, r in ipairs(runs) do
    local set = {}
    for _, f in ipairs(flags) do
      if r[f] then set[#set + 1] = f end
    end
    r.flags = table.concat(set, ",")
  end
  columns["cache --pages"] = { default = { "first", "last", "pages", "flags", "path" } }
  return write_records("cache --pages", o, runs, { "path", "dev", "inode", "first", "last", "pages", "flags",
    "evicted", "dirty", "writeback", "mapped", "active", "referenced", "workingset", "unevictable",
    "locked", "uptodate" })
end

-- /proc/meminfo's Cached and Buffers (block-device caches), in bytes.
local function meminfo_cached()
  local f = io.open("/proc/meminfo")
  local text = f and f:read("a") or ""
  if f then f:close() end
  local cached, buffers = text:match("\nCached:%s+(%d+) kB"), text:match("\nBuffers:%s+(%d+) kB")
  return cached and tonumber(cached) * 1024, buffers and tonumber(buffers) * 1024
end

-- bpfiter cache: every file with cached pages, biggest first.
local function cache(argv)
  local o = parse("cache", argv, 2)
  if o.help then
    io.stdout:write(USAGE:match("(       bpfiter cache.-)       bpfiter pin"), "options: --top N --path P ",
      "--scope all|open --pid N --dev N --ino N --min-pages N --evicted --json --csv --fields --sort\n")
    return 0
  end
  if o.pages then return cache_pages(o) end
  if o.activity then
    local rows, cols, dropped = call(require("bpfiter.activity").report_rows,
      { duration = o.activity, top = o.limit })
    if not rows then
      io.stderr:write("bpfiter: ", cols, "\n")
      return 1
    end
    if dropped > 0 then
      io.stderr:write(("bpfiter: %d inodes or events did not fit the collector's tables\n"):format(dropped))
    end
    columns["cache --activity"] = { default = cols }
    local valid = table.move(cols, 1, #cols, 1, {})
    valid[#valid + 1] = "generation"
    return write_records("cache --activity", o, rows, valid)
  end
  o.limit = o.limit or (o.format == "table" and 20 or nil)
  o.sort = o.sort or "cached"
  local valid = table.move(bpfiter.fields.cached_files, 1, #bpfiter.fields.cached_files, 1, {})
  for _, f in ipairs { "percent", "file" } do valid[#valid + 1] = f end
  check_field("cache", valid, o.sort:match("^[+-]?(.*)$"), "--sort")
  local records, err = call(bpfiter.collect, "cached_files", o.options)
  if not records then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  local total = 0
  for _, r in ipairs(records) do
    total = total + r.cached
    r.percent = r.size > 0 and math.min(100, math.floor(r.cached * PAGE * 1000 / r.size + 0.5) / 10) or nil
    r.file = r.path or ("[%s] %s"):format(r.path_error, r.relpath or "")
  end
  if o.format == "table" then
    local cached, buffers = meminfo_cached()
    io.stdout:write(("%d files, %s in the page cache%s\n"):format(#records, format.bytes(total * PAGE),
      cached and buffers and (" (/proc/meminfo: Cached %s + Buffers %s)"):format(format.bytes(cached),
        format.bytes(buffers)) or ""))
  end
  local pages = function(v) return format.bytes(v * PAGE) end
  columns.cache = { default = { "cached", "percent", "dirty", "writeback", "evicted", "mapped", "fstype", "file" },
    show = { cached = pages, dirty = pages, writeback = pages, evicted = pages, mapped = pages } }
  return write_records("cache", o, records, valid)
end

local function list(target, argv)
  local o = parse(target, argv, 2)
  if o.help then
    io.stdout:write(target_help(target))
    return 0
  end
  if o.cpu_wait then return cpu_wait(o) end
  -- Names are checked before the walk so a typo costs no kernel work.
  local valid = bpfiter.fields[target]
  select_fields(target, o, valid)
  if o.sort then check_field(target, valid, o.sort:match("^[+-]?(.*)$"), "--sort") end
  local records, err = call(bpfiter.collect, target, o.options)
  if not records then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  return write_records(target, o, records, valid)
end

-- The first n entries of a {key=count} map as a ranked list.
local function top(counts, n)
  local list = {}
  for k, v in pairs(counts) do list[#list + 1] = { key = k, value = v } end
  table.sort(list, function(a, b)
    if a.value ~= b.value then return a.value > b.value end
    return a.key < b.key
  end)
  for i = n + 1, #list do list[i] = nil end
  return list
end

local function report()
  local walks = {}
  for _, target in ipairs { "tasks", "files", "vmas" } do
    local records, err = bpfiter.collect(target, {})
    if not records then
      io.stderr:write("bpfiter: ", err, "\n")
      return 1
    end
    walks[target] = records
  end

  local comm, threads, rss = {}, {}, {}
  local nproc, nthreads, nkthreads, total_rss = 0, 0, 0, 0
  for _, t in ipairs(walks.tasks) do
    if t.kthread then
      nkthreads = nkthreads + 1
    else
      nthreads = nthreads + 1
      if t.pid == t.tgid then
        nproc = nproc + 1
        comm[t.pid], threads[t.pid], rss[t.pid] = t.comm, t.nr_threads, t.rss
        total_rss = total_rss + t.rss
      end
    end
  end
  local fds, kinds, maps = {}, {}, {}
  for _, f in ipairs(walks.files) do
    fds[f.pid] = (fds[f.pid] or 0) + 1
    kinds[f.kind] = (kinds[f.kind] or 0) + 1
  end
  for _, v in ipairs(walks.vmas) do maps[v.pid] = (maps[v.pid] or 0) + 1 end

  local out = {}
  local function say(fmt, ...) out[#out + 1] = fmt:format(...) end
  say("%d processes, %d threads, %d kernel threads, %d open fds, %d mappings",
    nproc, nthreads, nkthreads, #walks.files, #walks.vmas)
  -- RSS counts shared pages once per process, as ps does, so the sum can
  -- exceed the memory in use.
  say("RSS sum %s", format.bytes(total_rss))
  local function section(title, counts, show)
    say("")
    say("top by %s (%s, pid, comm):", title, title == "RSS" and "size" or "count")
    for _, e in ipairs(top(counts, 5)) do
      -- A process can exit between the task walk and this one.
      say("  %8s  %7d  %s", show and show(e.value) or e.value, e.key, comm[e.key] or "?")
    end
  end
  section("threads", threads)
  section("open files", fds)
  section("mappings", maps)
  section("RSS", rss, format.bytes)
  say("")
  local parts = {}
  for _, e in ipairs(top(kinds, math.huge)) do parts[#parts + 1] = ("%s %d"):format(e.key, e.value) end
  say("open fds by kind: %s", table.concat(parts, ", "))

  -- The page cache: a failure here (an older kernel) leaves the rest.
  local files, err = bpfiter.collect("cached_files", {})
  say("")
  if not files then
    say("page cache: %s", err)
  else
    local total = 0
    for _, f in ipairs(files) do total = total + f.cached end
    table.sort(files, function(a, b) return a.cached > b.cached end)
    say("page cache: %d files, %s (bpfiter cache for more); top 5:", #files, format.bytes(total * PAGE))
    for i = 1, math.min(5, #files) do
      local f = files[i]
      say("  %10s  %s", format.bytes(f.cached * PAGE), f.path or ("[%s] %s"):format(f.path_error, f.relpath or ""))
    end
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
  return 0
end

-- The kernel's iterator targets (from its BTF) and what decodes each.
local function targets(argv)
  local o = parse("", argv, 2)
  if o.help then
    io.stdout:write("usage: bpfiter targets [--json|--csv]\n")
    return 0
  end
  local list, err = bpfiter.targets()
  if not list then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  local rows = {}
  for i, t in ipairs(list) do
    local fns, opts, unavailable = {}, {}, {}
    for _, b in ipairs(t.bpfiter) do
      fns[#fns + 1] = b.name
      for _, opt in ipairs(b.options) do opts[#opts + 1] = opt.name end
      if not b.available then unavailable[#unavailable + 1] = b.name .. ": " .. b.reason end
    end
    rows[i] = { name = t.name, offered = t.offered, decoded = t.decoded, bpfiter = table.concat(fns, ","),
      unavailable = table.concat(unavailable, "; "),
      options = table.concat(opts, ","), context = table.concat(t.context, ",") }
  end
  io.stdout:write(format[o.format](rows,
    { "name", "offered", "decoded", "bpfiter", "unavailable", "options", "context" }))
  return 0
end

-- bpfiter pin TARGET PATH [--mode M] [--OPTION V]: kernel options only.
local function pin(argv)
  local target, path = argv[2], argv[3]
  if not (target and is_target(target)) then usage_error("pin needs a target (see bpfiter --help)") end
  if not path or path:match("^%-") then usage_error("pin needs a path in bpffs") end
  local o = parse(target, argv, 4, true)
  local done, err = call(bpfiter.pin, target, path, o.options, o.mode)
  if not done then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  return 0
end

-- bpfiter cat PATH [reader options] [--json ...]: a view's records.
local function cat(argv)
  local path = argv[2]
  if not path or path:match("^%-") then usage_error("cat needs the path of a pinned view") end
  -- The view names its target; open it first to know which options apply.
  local step, it = bpfiter.open(path)
  if not step then
    io.stderr:write("bpfiter: ", it, "\n")
    return 1
  end
  local target = tostring(it):match("^bpfiter%.iterator: (%S+)")
  it:close()
  local o = parse(target, argv, 3)
  local step2, it2 = call(bpfiter.open, path, o.options)
  if not step2 then
    io.stderr:write("bpfiter: ", it2, "\n")
    return 1
  end
  local records = {}
  for rec in step2, it2 do records[#records + 1] = rec end
  return write_records(target, o, records, bpfiter.fields[target])
end

local function unpin(argv)
  if not argv[2] or argv[3] then usage_error("usage: bpfiter unpin PATH") end
  local ok, err = bpfiter.unpin(argv[2])
  if not ok then
    io.stderr:write("bpfiter: ", err, "\n")
    return 1
  end
  return 0
end

local function run(argv)
  local cmd = argv[1]
  if cmd == nil then
    io.stderr:write(usage_text())
    return 2
  elseif cmd == "-h" or cmd == "--help" or cmd == "help" then
    local what = argv[2]
    if what and is_target(what) then
      io.stdout:write(target_help(what))
    elseif what then
      usage_error("unknown command '%s' (see bpfiter --help)", what)
    else
      io.stdout:write(usage_text())
    end
    return 0
  elseif cmd == "version" or cmd == "--version" then
    io.stdout:write("bpfiter ", bpfiter.version, "\n")
    return 0
  elseif cmd == "report" then
    if argv[2] == "-h" or argv[2] == "--help" then
      io.stdout:write("usage: bpfiter report\nprocess, thread, fd and mapping totals and the top 5 of each; the page cache's top 5 files\n")
      return 0
    elseif argv[2] then
      usage_error("report takes no arguments")
    end
    return report()
  elseif cmd == "targets" then
    return targets(argv)
  elseif cmd == "cache" then
    return cache(argv)
  elseif cmd == "pin" then
    return pin(argv)
  elseif cmd == "cat" then
    return cat(argv)
  elseif cmd == "unpin" then
    return unpin(argv)
  elseif is_target(cmd) then
    return list(cmd, argv)
  end
  usage_error("unknown command '%s' (see bpfiter --help)", cmd)
end

function M.main(argv)
  local ok, status = pcall(function()
    bpfiter = require "bpfiter"
    PAGE = bpfiter.page_size
    return run(argv or {})
  end)
  if ok then return status end
  if getmetatable(status) == Usage then
    io.stderr:write("bpfiter: ", status.message, "\n")
    return 2
  end
  -- Errors raised in the middle of a walk (the kernel failing a read).
  io.stderr:write("bpfiter: ", tostring(status), "\n")
  return 1
end

return M
