--- netns = for the socket walks (tcp, udp, unix, netlink), resolved here
-- into one core walk per network namespace. The core enters a namespace
-- only to create that walk's iterator fd (the kernel's socket iterators
-- walk the namespace of the thread creating it: csrc/util/netns.h), with
-- the program loaded once for all of them.
local core = require "bpfiter.core"
local lfs = require "lfs"

local M = {}

local ENOENT, ESTALE = 2, 116
-- Namespace inodes are 0xEFFFFFF9 (the initial ones) and up; fds stay
-- below 2^30 (fs.nr_open's ceiling).
local NS_INODE_MIN = 1 << 31

--- Every network namespace "all" covers, once each, the caller's first:
-- those a process is in (/proc/PID/ns/net) and those bind-mounted under
-- /run/netns (ip netns add). An array of {inode =, path =}; path is nil for
-- the caller's own (walked without entering it).
function M.all()
  local own = lfs.attributes("/proc/thread-self/ns/net", "ino")
  local out, seen = { { inode = own } }, { [own] = true }
  local function add(path)
    local ino = lfs.attributes(path, "ino") -- the process may be gone: nil
    if ino and not seen[ino] then
      seen[ino] = true
      out[#out + 1] = { inode = ino, path = path }
    end
  end
  if lfs.attributes("/run/netns", "mode") == "directory" then
    for e in lfs.dir("/run/netns") do
      if e ~= "." and e ~= ".." then add("/run/netns/" .. e) end
    end
  end
  for p in lfs.dir("/proc") do
    if p:match("^%d+$") then add("/proc/" .. p .. "/ns/net") end
  end
  return out
end

-- netns = value -> array of {inode =, path =}, or nil, message, errno.
local function resolve(name, netns)
  if netns == "all" then return M.all() end
  if type(netns) == "string" then return { { path = netns } } end
  if netns < NS_INODE_MIN then return { { path = "/proc/self/fd/" .. netns } } end
  for _, ns in ipairs(M.all()) do
    if ns.inode == netns then return { ns } end
  end
  return nil, ("%s: netns %d: no process is in that namespace and /run/netns has no file " ..
    "for it"):format(name, netns), ENOENT
end

local function core_options(opts, ns)
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "netns" then o[k] = v end
  end
  o.netns_path, o.netns_inode = ns.path, ns.path and ns.inode
  return o
end

--- bpfiter[name](opts) for a table opts with netns set (options checked
-- by the caller, lua/bpfiter/init.lua): the generic-for
-- quadruple, or nil, message, errno when the first walk cannot start. With
-- "all", a namespace whose last process exited before its turn (or whose
-- pid now names another process) is skipped; other failures after the
-- first walk raise.
function M.walk(name, opts)
  local list, msg, errno = resolve(name, opts.netns)
  if not list then return nil, msg, errno end
  local open = core[name]
  if #list == 1 then return open(core_options(opts, list[1])) end

  local i, step, it, closing = 0, nil, nil, nil
  local function close_current()
    local c = closing
    step, it, closing = nil, nil, nil
    if c then c:close() end
  end
  -- Starts the walk of the next namespace; false after the last.
  local function start_next(first)
    while i < #list do
      i = i + 1
      local s, x, err, c = open(core_options(opts, list[i]))
      if s then
        step, it, closing = s, x, c
        return true
      end
      if first then return nil, x, err end
      if err ~= ENOENT and err ~= ESTALE then error(("bpfiter: %s"):format(x), 0) end
    end
    return false
  end
  local ok, m, e = start_next(true)
  if ok == nil then return nil, m, e end
  local function next_record()
    while step do
      local r = step(it)
      if r ~= nil then return r end
      close_current()
      start_next(false)
    end
    return nil
  end
  local closer = setmetatable({}, { __close = close_current, __gc = close_current })
  return next_record, nil, nil, closer
end

return M
