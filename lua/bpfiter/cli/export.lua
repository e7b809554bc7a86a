--- bpfiter export: one of the fleet commands of lua/bpfiter/export.lua, which
-- parses its own arguments and returns the exit status.
local M = {
  synopsis = { { "export [--textfile PATH.prom] [--collectors a,b] [--top N]", "metrics of this machine (OpenMetrics)" } },
}

function M.help() return require("bpfiter.export").usage.export end

function M.run(argv)
  return require("bpfiter.export").export({ table.unpack(argv, 2) })
end

return M
