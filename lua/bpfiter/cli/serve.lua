--- bpfiter serve: one of the fleet commands of lua/bpfiter/export.lua, which
-- parses its own arguments and returns the exit status.
local M = {
  synopsis = { { "serve [--listen HOST:PORT]", "a /metrics endpoint for Prometheus" } },
}

function M.help() return require("bpfiter.export").usage.serve end

function M.run(argv)
  return require("bpfiter.export").serve({ table.unpack(argv, 2) })
end

return M
