--- Records to stdout for every command that prints them: field selection
-- (--fields), sorting (--sort), --limit, and the table's default columns
-- and renderings per view (a target, or a command's own rows).
local format = require "bpfiter.format"
local common = require "bpfiter.cli.common"

local M = {}

local function hex(v) return ("0x%x"):format(v) end

--- view -> {default = {columns of the table}, show = {field = render}}.
-- Every field (bpfiter.fields) is available with --fields; a view missing
-- here shows all its fields.
M.columns = {
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
  epoll = { default = { "pid", "epfd", "tfd", "event_names", "data", "kind", "same_file", "path" },
    show = { data = hex } },
  cgroups = { default = { "id", "nr_procs", "nr_tasks", "nr_descendants", "populated", "frozen", "path" } },
  bpf_progs = { default = { "id", "type", "name", "tag", "jited_bytes", "map_ids" } },
  bpf_maps = { default = { "id", "type", "name", "key_size", "value_size", "max_entries", "flags" } },
  bpf_links = { default = { "id", "type", "prog_id", "attach_type", "target_name", "map_id" } },
  map_elems = { default = { "key", "value", "key_bytes", "value_bytes" } },
  pagecache = { default = { "index", "pages", "evicted", "dirty", "writeback", "active", "referenced",
    "mapped", "path" } },
  cached_files = { default = { "cached", "dirty", "writeback", "evicted", "mapped", "size", "fstype",
    "path" } },
  ksyms = { default = { "address_hex", "type", "name", "module" } },
  kmem_caches = { default = { "name", "active_objects", "total_objects", "object_size",
    "slot_size", "objects_per_slab", "pages_per_slab", "slabs" } },
}
M.columns.udp = M.columns.tcp

--- f if it is one of valid, else a usage error listing them.
function M.check_field(view, valid, f, option)
  for _, v in ipairs(valid) do
    if v == f then return f end
  end
  common.usage_error("%s: unknown %s field '%s'; valid fields: %s", option, view, f, table.concat(valid, " "))
end

--- The columns to print: --fields, else the view's default in a table,
-- else every valid field.
function M.select_fields(view, o, valid)
  if o.fields == "all" then return valid end
  if o.fields then
    local list = {}
    for f in o.fields:gmatch("[^,%s]+") do list[#list + 1] = M.check_field(view, valid, f, "--fields") end
    if #list == 0 then common.usage_error("--fields needs at least one field name") end
    return list
  end
  if o.format == "table" and M.columns[view] then return M.columns[view].default end
  return valid
end

--- --sort "a,-b,+c" -> {{field = "a"}, {field = "b", direction = "-"}, ...}.
function M.sort_keys(view, o, valid)
  if not o.sort then return nil end
  local keys = {}
  for word in (o.sort .. ","):gmatch("([^,]*),") do
    local direction, field = word:match("^%s*([+-]?)(.-)%s*$")
    if field == "" then common.usage_error("--sort needs a field name in each of A,-B,+C, got '%s'", o.sort) end
    keys[#keys + 1] = { field = M.check_field(view, valid, field, "--sort"),
      direction = direction ~= "" and direction or nil }
  end
  return keys
end

local LUA_KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true until while")
    :gmatch("%a+") do LUA_KEYWORDS[w] = true end

--- --where EXPR -> predicate(record) -> boolean, or nil without --where.
-- EXPR is a Lua expression whose only names are the record's fields:
-- the sandbox has no globals at all (no string, math, os, load...), so
-- the expression can read the record and nothing else; string methods
-- still work through the string metatable (comm:match("^kworker")). A
-- name that is not a field of the view, a syntax error, or an error while
-- evaluating a record (e.g. comparing a field that is nil on that record:
-- write `rss and rss > 1000`) is a usage error (exit 2).
function M.where(view, o, valid)
  if not o.where then return nil end
  local known = {}
  for _, f in ipairs(valid) do known[f] = true end
  local rec
  local env = setmetatable({}, {
    __index = function(_, k)
      if known[k] then return rec[k] end
      common.usage_error("--where: '%s' is not a field of %s (bpfiter help %s)", tostring(k), view, view)
    end,
    __newindex = function() common.usage_error("--where: the expression cannot assign") end,
  })
  local chunk, err = load("return (" .. o.where .. "\n)", "=--where", "t", env)
  if not chunk then common.usage_error("--where: %s", (err:gsub("^%-%-where:%d+: ", ""))) end
  return function(r)
    rec = r
    local ok, v = pcall(chunk)
    if not ok then
      if getmetatable(v) == common.Usage then error(v, 0) end
      common.usage_error("--where: %s", (tostring(v):gsub("^%-%-where:%d+: ", "")))
    end
    return v ~= nil and v ~= false
  end
end

--- Names in the --where expression that are fields of valid (a superset
-- of the fields it reads: a name inside a string literal counts too).
local function where_names(o, known)
  local names = {}
  for name in (o.where or ""):gmatch("[%a_][%w_]*") do
    if known[name] and not LUA_KEYWORDS[name] then names[#names + 1] = name end
  end
  return names
end

-- The record field a target's pid option filters on (a process).
local PROCESS_FIELD = { tasks = "tgid", files = "pid", vmas = "pid", epoll = "pid" }

--- --where pushed into the kernel: when the whole expression is
-- `FIELD == N` with FIELD the process id the target's pid option filters
-- on, and --pid is not given, sets o.options.pid = N and returns true.
-- --where still filters every record, so the result is exactly its own
-- (a thread id N walks that thread, whose records --where then drops).
function M.push_down(view, o, declared)
  local field = PROCESS_FIELD[view]
  if not field or not o.where or o.options.pid ~= nil then return false end
  local name, digits = o.where:match("^%s*([%a_][%w_]*)%s*==%s*(%d+)%s*$")
  local n = digits and math.tointeger(tonumber(digits))
  if name ~= field or not n then return false end
  for _, d in ipairs(declared or {}) do
    if d.name == "pid" and n >= d.min and n <= d.max then
      o.options.pid = n
      return true
    end
  end
  return false
end

--- Checks --fields, --sort and --where before any kernel work, so a typo
-- costs none.
function M.check_names(view, o, valid)
  M.select_fields(view, o, valid)
  M.sort_keys(view, o, valid)
  M.where(view, o, valid)
end

--- The fields a walk of a target must decode for o (the walk's fields
-- option): the columns, the sort keys and the names --where reads; nil
-- when that is every field.
function M.walk_fields(view, o, valid)
  local known, list, seen = {}, {}, {}
  for _, f in ipairs(valid) do known[f] = true end
  local function add(f)
    if known[f] and not seen[f] then
      seen[f] = true
      list[#list + 1] = f
    end
  end
  for _, f in ipairs(M.select_fields(view, o, valid)) do add(f) end
  for _, k in ipairs(M.sort_keys(view, o, valid) or {}) do add(k.field) end
  for _, f in ipairs(where_names(o, known)) do add(f) end
  if #list == #valid then return nil end
  return list
end

local function rank(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return v
end

-- Sorts in place by the keys in order; a key without a direction sorts
-- numbers and booleans (true first) descending and text ascending (the
-- type of its first value decides). Records missing a key go last for
-- it, and ties keep the walk's order, so the output is the same run to run.
local function sort_records(records, keys)
  local order = {}
  for i, rec in ipairs(records) do order[rec] = i end
  for _, k in ipairs(keys) do
    k.descending = k.direction == "-"
    if k.direction == nil then
      for _, rec in ipairs(records) do
        local v = rec[k.field]
        if v ~= nil then
          k.descending = type(v) ~= "string"
          break
        end
      end
    end
  end
  table.sort(records, function(a, b)
    for _, k in ipairs(keys) do
      local x, y = rank(a[k.field]), rank(b[k.field])
      if x ~= y then
        if x == nil then return false end
        if y == nil then return true end
        if k.descending then return x > y end
        return x < y
      end
    end
    return order[a] < order[b]
  end)
end

-- Durations are nanoseconds in records (the _ns suffix says so); a table
-- shows them in microseconds, under headers that say _us.
local function usec(v) return ("%.1f"):format(v / 1000) end

-- The unit of each field of a view, as the core declares it (none for a
-- command's own rows).
local function units_of(view)
  local units = {}
  for _, f in ipairs(require("bpfiter").field_info[view] or {}) do units[f.name] = f.unit end
  return units
end

-- A table's header for field f: _ns fields in microseconds as _us; bytes
-- and pages say so (rss_bytes, cached_pages) unless the name does already.
local function header(f, unit)
  local us = f:match("^(.*)_ns$")
  if us then return us .. "_us", true end
  if (unit == "bytes" or unit == "pages") and not f:match(unit .. "$") then return f .. "_" .. unit end
  return f
end

-- The table writer's options for view: renderings and headers.
local function table_options(view, fields)
  local show, headers, units = {}, {}, units_of(view)
  for k, f in pairs(M.columns[view] and M.columns[view].show or {}) do show[k] = f end
  for i, f in ipairs(fields) do
    local in_us
    headers[i], in_us = header(f, units[f])
    if in_us then show[f] = usec end
  end
  -- streamed: widths from the first rows (sorted output is all in memory)
  return { show = show, headers = headers, window = 1000 }
end

local function out(...) return io.stdout:write(...) end

--- Writes the records step, state yields (a walk's generic-for values,
-- as a walk returns them: step, state, initial (unused), closing;
-- closing, optional, is closed when the output stops, before the end of
-- the walk when --limit is reached) with o's format, fields, where, sort
-- and limit; valid: the fields the records can have. Without --sort each
-- record is written as it comes; --sort collects them first. Returns 0.
function M.stream(view, o, valid, step, state, _, closing)
  local fields = M.select_fields(view, o, valid)
  local keys, keep = M.sort_keys(view, o, valid), M.where(view, o, valid)
  local opts = o.format == "table" and table_options(view, fields) or nil
  local rows, n, limit = {}, 0, o.limit or math.huge
  local w = not keys and format.writer(o.format, fields, opts, out)
  do
    local _ <close> = closing
    if limit > 0 or keys then
      for rec in step, state do
        if not keep or keep(rec) then
          n = n + 1
          if keys then rows[n] = rec else w.row(rec) end
          if n >= limit and not keys then break end
        end
      end
    end
  end
  if keys then
    sort_records(rows, keys)
    w = format.writer(o.format, fields, opts and { show = opts.show, headers = opts.headers }, out)
    for i = 1, math.min(#rows, limit) do w.row(rows[i]) end
  end
  w.close()
  return 0
end

--- M.stream over an array of records (a command's own rows).
function M.write(view, o, records, valid)
  local i = 0
  return M.stream(view, o, valid, function()
    i = i + 1
    return records[i]
  end)
end

return M
