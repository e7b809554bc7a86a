-- Run by spec/05-resources_spec.lua under `ulimit -n 64`:
--   lua5.4 fd_limit_child.lua MODE TARGET [PATH]
-- (PATH: the pinned map for map_elems, the pinned view for TARGET "open")
-- drop:    starts DROPS walks of TARGET and drops each unclosed (unreachable,
--          so only a garbage collection closes its fds); every start must
--          succeed. Prints "ok N".
-- exhaust: after one complete walk (the program and its maps loaded), takes
--          every free fd with files it keeps, then starts a walk, which must
--          fail cleanly; prints "fail MESSAGE|ERRNO", then frees the fds and
--          prints "ok" when a walk succeeds again.
-- cold:    the same, without the first walk: loading the program fails.
--          (The Lua modules init.lua loads on first use are loaded first:
--          require cannot open them without an fd.)
local bpfiter = require "bpfiter"

local mode, target, path = arg[1], arg[2], arg[3]
local DROPS = 200
local me = tonumber(io.open("/proc/self/stat"):read("a"):match("^%d+"))

-- Where cgroup v2 is mounted: a root the walk must open (an fd).
local function cgroup2_mount()
  for line in io.lines("/proc/self/mountinfo") do
    local root, mnt, fstype = line:match("^%S+ %S+ %S+ (%S+) (%S+) .* %- (%S+) ")
    if fstype == "cgroup2" and root == "/" then return mnt end
  end
end

-- The options that make a walk of each target start; a file of this process
-- for the page-cache walks.
local options = {
  tasks = { pid = me }, files = { pid = me }, vmas = { pid = me }, epoll = {},
  map_elems = { map = path }, cgroups = { root = cgroup2_mount() }, pagecache = { path = "/proc/self/exe" },
  cached_files = { path = "/proc/self/exe" },
}

-- Starts one walk (or collector); returns whatever the call returns.
local function start()
  if target == "cpu_wait" then return bpfiter.cpu_wait {} end
  if target == "cache_activity_collector" then return bpfiter.cache_activity_collector {} end
  if target == "open" then return bpfiter.open(path) end -- a pinned view
  if target == "targets" then return bpfiter.targets() end -- reads the kernel's BTF
  return bpfiter[target](options[target] or {})
end

local function die(fmt, ...)
  io.stderr:write(fmt:format(...), "\n")
  os.exit(1)
end

local drops = (target == "cpu_wait" or target == "cache_activity_collector") and 20 or DROPS
if mode == "drop" then
  collectgarbage("stop") -- only the core's retry may collect the dropped walks
  for i = 1, drops do
    local ok, msg, errno = start()
    if not ok then die("walk %d of %s failed: %s (errno %s)", i, target, msg, tostring(errno)) end
  end
  print("ok " .. drops)
elseif mode == "exhaust" or mode == "cold" then
  for _, m in ipairs { "pagecache", "stats", "activity" } do require("bpfiter." .. m) end
  if mode == "exhaust" then
    local first, it = start()
    if not first then die("first walk of %s failed: %s", target, it) end
    if type(first) == "function" then
      for _ in first, it do end
    elseif first.close then
      first:close() -- a collector
    end
  end
  collectgarbage()
  collectgarbage()
  local held = {}
  while true do
    local f = io.open("/dev/null")
    if not f then break end
    held[#held + 1] = f
  end
  local ok, msg, errno = start()
  if ok then die("a walk of %s started without a free fd", target) end
  print(("fail %s|%s"):format(msg, tostring(errno)))
  for _, f in ipairs(held) do f:close() end
  ok, msg = start()
  if not ok then die("a walk of %s after freeing fds failed: %s", target, msg) end
  print("ok")
end
