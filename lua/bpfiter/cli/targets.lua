--- bpfiter targets: the iterator targets the running kernel offers (from
-- its BTF) and which bpfiter walks decode each, with their options.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local output = require "bpfiter.cli.output"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "targets [--json|--csv]", "the kernel's iterator targets, and ours it lacks" } },
}

local COLUMNS = { "name", "offered", "decoded", "bpfiter", "unavailable", "options", "context" }

function M.help()
  local names = table.concat(bpfiter.target_names, ", ")
  return ("usage: bpfiter targets [options]\n" ..
    "the kernel's iterator targets (bpf_iter_* in its BTF) and those of this build it lacks: name,\n" ..
    "whether the kernel offers it, whether this build decodes it, the walks that do (bpfiter),\n" ..
    "those that cannot run on this kernel and why (unavailable), their options, and what a\n" ..
    "program receives (context)\n" ..
    "output options:\n%s\nthis build's walks (bpfiter help TARGET): %s\n")
    :format(parse.describe(parse.output), names)
end

function M.run(argv)
  local o, args = parse.parse(argv, 2, { parse.output }, "targets", M.help)
  if #args > 0 then common.usage_error("targets takes no arguments") end
  output.check_names("targets", o, COLUMNS)
  local list = common.call(bpfiter.targets)
  local rows = {}
  for i, t in ipairs(list) do
    local fns, opts, seen, unavailable = {}, {}, {}, {}
    for _, b in ipairs(t.bpfiter) do
      fns[#fns + 1] = b.name
      if not b.available then unavailable[#unavailable + 1] = b.name .. ": " .. b.reason end
      -- two walks of one target (files, epoll) share options such as pid
      for _, opt in ipairs(b.options) do
        -- fields: every walk's (an output option, --fields)
        if not seen[opt.name] and opt.type ~= "fields" then
          seen[opt.name] = true
          opts[#opts + 1] = opt.name
        end
      end
    end
    rows[i] = { name = t.name, offered = t.offered, decoded = t.decoded, bpfiter = table.concat(fns, ","),
      unavailable = table.concat(unavailable, "; "),
      options = table.concat(opts, ","), context = table.concat(t.context, ",") }
  end
  return output.write("targets", o, rows, COLUMNS)
end

return M
