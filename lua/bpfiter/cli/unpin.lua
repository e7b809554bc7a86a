--- bpfiter unpin PATH: removes a pinned view.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "unpin PATH", "remove a pinned view (unpin -- PATH for a name starting with -)" } },
}

function M.help()
  return "usage: bpfiter unpin PATH\nremoves the pinned view PATH (a bpffs file); " ..
    "write unpin -- PATH when PATH starts with -\n"
end

function M.run(argv)
  local o, args = parse.parse(argv, 2, {}, "unpin", M.help)
  if #args ~= 1 then common.usage_error("unpin needs one path (see bpfiter help unpin)") end
  common.call(bpfiter.unpin, args[1])
  return 0
end

return M
