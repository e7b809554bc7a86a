--- bpfiter targets: the iterator targets the running kernel offers (from
-- its BTF) and which bpfiter walks decode each, with their options.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local output = require "bpfiter.cli.output"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "targets [--json|--csv]", "iterator targets the running kernel offers" } },
}

local COLUMNS = { "name", "decoded", "bpfiter", "options", "context" }

function M.help()
  local names = table.concat(bpfiter.target_names, ", ")
  return ("usage: bpfiter targets [options]\n" ..
    "the kernel's iterator targets (bpf_iter_* in its BTF): name, whether this build decodes it,\n" ..
    "the walks that do (bpfiter), their options, and what a program receives (context)\n" ..
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
    local fns, opts, seen = {}, {}, {}
    for _, b in ipairs(t.bpfiter) do
      fns[#fns + 1] = b.name
      -- two walks of one target (files, epoll) share options such as pid
      for _, opt in ipairs(b.options) do
        -- fields: every walk's (an output option, --fields)
        if not seen[opt.name] and opt.type ~= "fields" then
          seen[opt.name] = true
          opts[#opts + 1] = opt.name
        end
      end
    end
    rows[i] = { name = t.name, decoded = t.decoded, bpfiter = table.concat(fns, ","),
      options = table.concat(opts, ","), context = table.concat(t.context, ",") }
  end
  return output.write("targets", o, rows, COLUMNS)
end

return M
