--- bpfiter: live kernel objects as Lua values, through BPF iterators.
--
-- Every target function (tasks, files, vmas, ...) comes from the C core and
-- follows one convention:
--   * programmer errors (wrong argument type, unknown option, negative pid)
--     raise "bad argument #1 to 'tasks' (...)";
--   * environmental failures (no privilege, pid gone, kernel lacks the
--     target) return nil, message, errno;
--   * on success it returns the generic-for quadruple
--     step, iterator, nil, iterator — the last one is the to-be-closed
--     value, so `break`, errors and garbage collection release the kernel
--     link and fds at once.
--   * errors in the middle of a walk (the kernel failing a read) raise.
local core = require "bpfiter.core"

local M = {
  version = core.version,
  --- Names of the targets this build decodes, in table order.
  targets = core.targets,
  --- fields[target]: the field names its records can have, in order.
  fields = core.fields,
  --- options[target]: {name =, type = "integer"|"boolean"|..., scope =
  -- "kernel"|"reader"} for every option it accepts.
  options = core.options,
  pin = core.pin,
  open = core.open,
  unpin = core.unpin,
}

for _, name in ipairs(core.targets) do
  M[name] = core[name]
end

--- Runs a target to completion and returns its records as an array, or
-- nil, message, errno when the walk cannot start.
-- @usage local procs = assert(bpfiter.collect("tasks", {threads = false}))
function M.collect(target, opts)
  local open = M[target]
  if type(open) ~= "function" or not core[target] then
    error(("bad argument #1 to 'collect' (unknown target '%s')"):format(tostring(target)), 2)
  end
  local step, it, _, closing = open(opts)
  if not step then return nil, it, _ end
  local out, n = {}, 0
  do
    local _ <close> = closing
    for rec in step, it do
      n = n + 1
      out[n] = rec
    end
  end
  return out
end

return M
