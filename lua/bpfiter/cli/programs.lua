--- bpfiter programs [--clear]: the verified-program cache (what is pinned),
-- or empty it.
local bpfiter = require "bpfiter"
local common = require "bpfiter.cli.common"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "programs [--clear]", "the verified-program cache (list or empty it)" } },
}

local OWN = { { name = "clear", type = "boolean", cli = true, help = "remove every cached program" } }

function M.help()
  return "usage: bpfiter programs [--clear]\n" ..
    "the verified-program cache: what is pinned, or remove it all\n" .. parse.describe(OWN) .. "\n"
end

function M.run(argv)
  local o, args = parse.parse(argv, 2, { OWN }, "programs", M.help)
  if #args > 0 then common.usage_error("programs takes no arguments (see bpfiter help programs)") end
  if o.clear then
    local n = common.call(bpfiter.program_cache_clear)
    io.stdout:write(("removed %d cached programs\n"):format(n))
    return 0
  end
  local c = bpfiter.program_cache()
  io.stdout:write(("%s: %s\n"):format(c.dir, c.enabled and "in use" or "not used, " .. c.reason))
  for _, e in ipairs(c.entries) do
    io.stdout:write(("%-14s id %-6d %s %s\n"):format(e.target, e.id, e.tag, e.file))
  end
  return 0
end

return M
