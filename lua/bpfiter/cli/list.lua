--- bpfiter TARGET [options]: one target's records as a table, CSV or JSON;
-- and bpfiter cgroups --cpu-wait SECONDS, run-queue wait per cgroup.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local output = require "bpfiter.cli.output"
local parse = require "bpfiter.cli.parse"

local ESRCH = 3

local M = {
  synopsis = { { "TARGET [options]", "list kernel objects (TARGET: bpfiter help targets)" },
    { "cgroups --cpu-wait SECONDS [--root P] [--order O] [--recursive]",
      "run-queue wait per cgroup (count, mean, p50..max)" } },
}

-- cgroups' own flags: the collector runs over the cgroups walk.
local CPU_WAIT = {
  { name = "cpu_wait", type = "seconds", cli = true, arg = "SECONDS",
    help = "collect run-queue waits for SECONDS, then one row per cgroup of the walk" },
  { name = "recursive", type = "boolean", cli = true,
    help = "with --cpu-wait: each row also counts its descendants" },
}

--- The declarations bpfiter TARGET parses: the target's options, its
-- command flags, the output options (also what the man page lists).
local function groups(target)
  local list = { bpfiter.options[target] }
  if target == "cgroups" then list[#list + 1] = CPU_WAIT end
  list[#list + 1] = parse.output
  return list
end

M.groups = groups

--- One line per field of target: name, unit, meaning (bpfiter.field_info,
-- declared with the field in C).
function M.describe_fields(target)
  local infos, width, lines = bpfiter.field_info[target], 0, {}
  for _, f in ipairs(infos) do width = math.max(width, #f.name) end
  for _, f in ipairs(infos) do
    lines[#lines + 1] = ("  %-" .. width .. "s  %-5s  %s"):format(f.name, f.unit, f.help)
  end
  return table.concat(lines, "\n")
end

--- bpfiter help TARGET: options (from the core's declarations), fields.
function M.help(target)
  local lines = { ("usage: bpfiter %s [options]"):format(target) }
  local own = {}
  for _, g in ipairs(groups(target)) do
    for _, d in ipairs(g ~= parse.output and g or {}) do
      if d.type ~= "fields" then own[#own + 1] = d end -- it is the output option --fields
    end
  end
  lines[#lines + 1] = "options:"
  lines[#lines + 1] = #own > 0 and parse.describe(own) or "  (none)"
  lines[#lines + 1] = "output options:"
  lines[#lines + 1] = parse.describe(parse.output)
  lines[#lines + 1] = "fields (unit: bytes, ns, pages of " .. bpfiter.page_size .. " bytes, count):"
  lines[#lines + 1] = M.describe_fields(target)
  local cols = output.columns[target]
  lines[#lines + 1] = "default: " .. table.concat(cols and cols.default or bpfiter.fields[target], " ")
  return table.concat(lines, "\n") .. "\n"
end

-- The wait fields a --cpu-wait row adds (lua/bpfiter/stats.lua, to be
-- renamed cpu_wait.lua: either name serves).
local function wait_fields()
  local ok, stats = pcall(require, "bpfiter.cpu_wait")
  if not ok then stats = require "bpfiter.stats" end
  return stats.fields
end

local function cpu_wait(o)
  local cg, waits = bpfiter.fields.cgroups, wait_fields()
  local valid = table.move(waits, 1, #waits, #cg + 1, table.move(cg, 1, #cg, 1, {}))
  output.columns["cgroups --cpu-wait"] = { default = { "path", "waits", "wait_mean_ns", "wait_p50_ns",
    "wait_p90_ns", "wait_p99_ns", "wait_max_ns" } }
  output.check_names("cgroups --cpu-wait", o, valid)
  local rows = common.call(bpfiter.cgroup_cpu_wait, { root = o.options.root, order = o.options.order,
    recursive = o.recursive, duration = o.cpu_wait })
  return output.write("cgroups --cpu-wait", o, rows, valid)
end

function M.run(argv, target)
  local o = parse.parse(argv, 2, groups(target), target, function() return M.help(target) end)
  if o.recursive ~= nil and not o.cpu_wait then common.usage_error("--recursive needs --cpu-wait") end
  common.check_options(target, o.options)
  if o.cpu_wait then return cpu_wait(o) end
  local valid = bpfiter.fields[target]
  output.check_names(target, o, valid)
  o.options.fields = output.walk_fields(target, o, valid)
  local pushed = output.push_down(target, o, bpfiter.options[target])
  local walk = table.pack(common.try(bpfiter[target], o.options))
  if walk[1] == nil and pushed and walk[3] == ESRCH then
    -- no such process: --where alone would have matched no record
    return output.stream(target, o, valid, function() end)
  end
  if walk[1] == nil then common.fail(walk[2]) end
  return output.stream(target, o, valid, table.unpack(walk, 1, walk.n))
end

return M
