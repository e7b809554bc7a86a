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

--- Checks --fields and --sort before any kernel work, so a typo costs none.
function M.check_names(view, o, valid)
  M.select_fields(view, o, valid)
  if o.sort then M.check_field(view, valid, o.sort:match("^[+-]?(.*)$"), "--sort") end
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

local function relabel(view, fields, records, show)
  local alias, out, units = {}, {}, units_of(view)
  for i, f in ipairs(fields) do
    local in_us
    out[i], in_us = header(f, units[f])
    if out[i] ~= f then alias[out[i]] = f end
    if in_us then show[out[i]] = usec end
    if show[f] and out[i] ~= f then show[out[i]] = show[f] end
  end
  if next(alias) == nil then return fields, records end
  local shown = {}
  for i, rec in ipairs(records) do
    shown[i] = setmetatable({}, { __index = function(_, k) return rec[alias[k] or k] end })
  end
  return out, shown
end

--- Sorts, limits and prints records of a view with o's format, fields,
-- sort and limit; valid: the fields the records can have. Returns 0.
function M.write(view, o, records, valid)
  local fields = M.select_fields(view, o, valid)
  if o.sort then
    local direction, field = o.sort:match("^([+-]?)(.*)$")
    if field == "" then common.usage_error("--sort needs a field name") end
    sort_records(records, M.check_field(view, valid, field, "--sort"), direction ~= "" and direction or nil)
  end
  if o.limit then
    for i = #records, o.limit + 1, -1 do records[i] = nil end
  end
  local show
  if o.format == "table" then
    show = {}
    for k, f in pairs(M.columns[view] and M.columns[view].show or {}) do show[k] = f end
    fields, records = relabel(view, fields, records, show)
  end
  io.stdout:write(format[o.format](records, fields, show))
  return 0
end

return M
