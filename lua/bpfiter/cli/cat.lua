--- bpfiter cat PATH [options]: a pinned view's records, read without BPF
-- privileges; only the target's reader options (filters) apply.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local output = require "bpfiter.cli.output"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "cat PATH [options]", "read a pinned view (no BPF privileges needed)" } },
}

-- The target's options a reader can give: those of scope reader.
local function reader_options(target)
  return parse.scoped(bpfiter.options[target], "reader")
end

function M.help(target)
  local lines = { "usage: bpfiter cat PATH [options]" }
  if target then
    local own = reader_options(target)
    lines[#lines + 1] = ("options of this %s view (its other options were fixed by pin):"):format(target)
    lines[#lines + 1] = #own > 0 and parse.describe(own) or "  (none)"
  else
    lines[#lines + 1] = "reads the view pinned at PATH (bpfiter pin) as any user its mode lets in;"
    lines[#lines + 1] = "options: the target's reader options (bpfiter cat PATH --help lists them), and"
  end
  lines[#lines + 1] = "output options:"
  lines[#lines + 1] = parse.describe(parse.output)
  return table.concat(lines, "\n") .. "\n"
end

function M.run(argv)
  local first = 2
  if argv[first] == "--" then first = first + 1 end
  local path = argv[first]
  if first == 2 and (path == "-h" or path == "--help") then
    io.stdout:write(M.help())
    return 0
  end
  if not path or (first == 2 and path:match("^%-")) then
    common.usage_error("cat needs the path of a pinned view (see bpfiter help cat)")
  end
  -- The view names its target; open it first to know which options apply.
  local _, it = common.call(bpfiter.open, path)
  local target = tostring(it):match("^bpfiter%.iterator: (%S+)")
  it:close()
  -- Every option of the target parses, so that one fixed by the pin gets
  -- the library's own reason ("--pid is fixed when the view is pinned").
  local o, args = parse.parse(argv, first + 1, { bpfiter.options[target], parse.output }, "cat",
    function() return M.help(target) end)
  if #args > 0 then common.usage_error("cat takes one path, got also '%s'", args[1]) end
  local valid = bpfiter.fields[target]
  output.check_names(target, o, valid)
  o.options.fields = output.walk_fields(target, o, valid)
  return output.stream(target, o, valid, common.call(bpfiter.open, path, o.options))
end

return M
