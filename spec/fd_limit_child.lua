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
-- btf:     TARGET map_elems, PATH a map with BTF: starts a walk, takes every
--          free fd, steps: reading the map's BTF needs an fd, so the step
--          must raise (not give the element undecoded); prints "raised
--          MESSAGE", then "ok" when a new walk decodes with fds back.
-- cold:    the same as exhaust, without the first walk: loading the program fails.
--          (The Lua modules init.lua loads on first use are loaded first:
--          require cannot open them without an fd.)
local bpfiter = require "bpfiter"

local mode, target, path = arg[1], arg[2], arg[3]
local DROPS = 200
local me
do
  local f <close> = assert(io.open("/proc/self/stat"))
  me = tonumber(f:read("a"):match("^%d+"))
end

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

-- Every free fd, held by files kept open.
local function take_fds()
  local held = {}
  while true do
    local f = io.open("/dev/null")
    if not f then return held end
    held[#held + 1] = f
  end
end

local function free_fds(held)
  for _, f in ipairs(held) do f:close() end
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
  for _, m in ipairs { "pagecache", "cpu_wait", "cache_activity" } do require("bpfiter." .. m) end
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
  local held = take_fds()
  local ok, msg, errno = start()
  if ok then die("a walk of %s started without a free fd", target) end
  print(("fail %s|%s"):format(msg, tostring(errno)))
  free_fds(held)
  ok, msg = start()
  if not ok then die("a walk of %s after freeing fds failed: %s", target, msg) end
  print("ok")
elseif mode == "btf" then
  local step, it = start()
  if not step then die("the walk of %s failed: %s", path, it) end
  local held = take_fds()
  local ok, rec = pcall(step, it)
  free_fds(held)
  if ok then die("stepped without a free fd: key %s", rec and tostring(rec.key)) end
  print("raised " .. tostring(rec))
  it:close()
  step, it = start()
  rec = step(it)
  if not (rec and rec.key ~= nil) then die("a walk with fds back did not decode") end
  print("ok")
end
