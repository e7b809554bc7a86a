--- bpfiter pin TARGET PATH [--mode M] [--OPTION V]: pins a view in bpffs
-- with the target's kernel options fixed.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "pin TARGET PATH [--mode 0640] [--OPTION V]", "pin a view in bpffs" } },
}

local MODE = { { name = "mode", type = "string", cli = true, arg = "MODE",
  help = "the view's file mode, octal (default 0600): who may read it" } }

-- The target's options a pin fixes: those of scope kernel.
local function kernel_options(target)
  return parse.scoped(bpfiter.options[target], "kernel")
end

function M.help(target)
  local lines = { ("usage: bpfiter pin %s PATH [options]"):format(target or "TARGET") }
  if target then
    local own = kernel_options(target)
    table.move(MODE, 1, #MODE, #own + 1, own)
    lines[#lines + 1] = "options (fixed in the view; filters of the reader go to bpfiter cat):"
    lines[#lines + 1] = parse.describe(own)
  else
    lines[#lines + 1] = "pins TARGET's walk at PATH in bpffs; bpfiter cat reads it, without BPF privileges"
    lines[#lines + 1] = "options: the target's kernel options (bpfiter help pin TARGET), and"
    lines[#lines + 1] = parse.describe(MODE)
  end
  return table.concat(lines, "\n") .. "\n"
end

function M.run(argv)
  local target = argv[2]
  if target == nil then common.usage_error("pin needs a target and a path (see bpfiter help pin)") end
  if target == "-h" or target == "--help" then
    io.stdout:write(M.help())
    return 0
  end
  if not common.is_target(target) then
    common.usage_error("pin: unknown target '%s' (see bpfiter help targets)", target)
  end
  local o, args = parse.parse(argv, 3, { kernel_options(target), MODE }, "pin " .. target,
    function() return M.help(target) end)
  if #args ~= 1 then common.usage_error("pin needs one path in bpffs (see bpfiter help pin)") end
  common.call(bpfiter.pin, target, args[1], o.options, o.mode)
  return 0
end

return M
