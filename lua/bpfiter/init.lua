local core = require "bpfiter.core"
local M = {}
for _, name in ipairs(core.targets) do M[name] = core[name] end
M.version = core.version
return M
