--- What every command shares: the two kinds of errors main turns into exit
-- statuses (usage: 2, failure: 1), and library calls whose argument errors
-- are the user's usage errors.
local M = {}

M.Usage = {}
M.Failure = {}
M.Help = {}	-- -h or --help: main prints .text and exits 0

--- A message as the user should see it: without the "file:line:" position
-- of whoever raised it and without a "bpfiter: " main adds again.
function M.clean(msg)
  msg = tostring(msg):gsub("^[^\n:]*%.lua:%d+: ", "")
  return (msg:gsub("^bpfiter: ", ""))
end

--- Whether name is a target of this build (bpfiter.target_names).
function M.is_target(name)
  for _, t in ipairs(require("bpfiter").target_names) do
    if t == name then return true end
  end
  return false
end

--- Raises a usage error (exit 2).
function M.usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, M.Usage), 0)
end

--- Raises a failure (exit 1) with the library's message.
function M.fail(msg)
  error(setmetatable({ message = M.clean(msg) }, M.Failure), 0)
end

--- The library's results, or a failure when it returned nil, message.
function M.check(ok, msg, ...)
  if ok == nil then M.fail(msg) end
  return ok, msg, ...
end

-- "option 'min_pages'" -> "--min-pages": the library's words, the CLI's flags.
local function with_flags(msg)
  return (msg:gsub("option '([%w_]+)'", function(name) return "--" .. (name:gsub("_", "-")) end))
end

--- Checks a target's options with the library's own check (the one the
-- walk makes), before any kernel work: a usage error if they are wrong.
function M.check_options(target, opts)
  local problem = require("bpfiter").check_options(target, opts)
  if problem then M.usage_error("%s", with_flags(problem)) end
end

--- Calls a library function with the user's values: its argument errors
-- ("bad argument #1 to 'tasks' (option 'pid' must be a positive pid, got
-- 0)") become usage errors naming the flag ("--pid must be ..."); its
-- nil, message returns become failures. Returns what fn returned.
function M.call(fn, ...)
  local results = table.pack(M.try(fn, ...))
  if results[1] == nil then M.fail(results[2]) end
  return table.unpack(results, 1, results.n)
end

--- As M.call, but a nil, message, errno return is returned, not raised.
function M.try(fn, ...)
  local results = table.pack(pcall(fn, ...))
  if not results[1] then
    local msg = M.clean(results[2])
    local inner = msg:match("^bad argument #%d+ to '[^']*' %((.*)%)$")
    if inner then M.usage_error("%s", with_flags(inner)) end
    error(results[2], 0)
  end
  return table.unpack(results, 2, results.n)
end

return M
