--- bpfiter unpin PATH [--force]: removes a pinned view.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local parse = require "bpfiter.cli.parse"

local FLAGS = {
  { name = "force", type = "boolean", cli = true,
    help = "also remove a symlink or another bpffs object (never what a symlink points to)" },
}

local M = {
  synopsis = { { "unpin PATH [--force]", "remove a pinned view (unpin -- PATH for a name starting with -)" } },
}

function M.help()
  return "usage: bpfiter unpin PATH [--force]\nremoves the pinned view PATH (a bpffs file); " ..
    "write unpin -- PATH when PATH starts with -\n" .. parse.describe(FLAGS) .. "\n"
end

function M.run(argv)
  local o, args = parse.parse(argv, 2, { FLAGS }, "unpin", M.help)
  if #args ~= 1 then common.usage_error("unpin needs one path (see bpfiter help unpin)") end
  common.call(bpfiter.unpin, args[1], { force = o.force == true })
  return 0
end

return M
