--- The page-cache walks over the C core: pagecache{} (one record per folio)
-- and cached_files{} (one per inode). The core yields paths relative to
-- each filesystem's root; here they become the paths this process sees,
-- through /proc/self/mountinfo. The options path= and pid= are resolved
-- here too, into what the kernel walk can filter on (dev, ino, scope).
local core = require "bpfiter.core"

local M = {}

-- glibc's makedev(), so devs compare equal to stat()'s st_dev (the C core has
-- its twin in csrc/util/devnum.h).
local function makedev(major, minor)
  return ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) |
         ((minor & 0xffffff00) << 12) | (minor & 0xff)
end

local function unescape(s)
  return (s:gsub("\\(%d%d%d)", function(o) return string.char(tonumber(o, 8)) end))
end

-- io.open, once more after a full collection when out of fds (EMFILE,
-- ENFILE): walks dropped without close hold fds until collected. The core
-- follows the same rule for every fd it opens (csrc/core/fds.h).
local function open_file(path)
  local f, msg, errno = io.open(path)
  if not f and (errno == 24 or errno == 23) then
    collectgarbage()
    f, msg, errno = io.open(path)
  end
  return f, msg, errno
end

--- dev -> {{root =, mountpoint =}, ...}: where each filesystem is mounted
-- in this process's mount namespace, in mountinfo's order; or nil, message,
-- errno (then every path would wrongly read "not mounted").
function M.mounts()
  local by_dev = {}
  local f, msg, errno = open_file("/proc/self/mountinfo")
  if not f then return nil, msg, errno end
  for line in f:lines() do
    local major, minor, root, mountpoint = line:match("^%d+ %d+ (%d+):(%d+) (%S+) (%S+)")
    if major then
      local dev = makedev(tonumber(major), tonumber(minor))
      local list = by_dev[dev] or {}
      list[#list + 1] = { root = unescape(root), mountpoint = unescape(mountpoint) }
      by_dev[dev] = list
    end
  end
  f:close()
  return by_dev
end

--- The path of relpath (from the root of filesystem dev) as this process
-- sees it, or nil, "not mounted" when no mount shows it.
function M.resolve(mounts, dev, relpath)
  for _, m in ipairs(mounts[dev] or {}) do
    local root = m.root
    local rest
    if root == "/" then
      rest = relpath
    elseif relpath == root then
      rest = ""
    elseif relpath:sub(1, #root + 1) == root .. "/" then
      rest = relpath:sub(#root + 1)
    end
    if rest then
      if m.mountpoint == "/" then return rest ~= "" and rest or "/" end
      return m.mountpoint .. (rest == "/" and "" or rest)
    end
  end
  return nil, "not mounted"
end

--- A block device's node, "/dev/NAME", from its device number (st_rdev),
-- as sysfs names it; nil, "no device" when sysfs does not list it.
function M.block_device_path(rdev)
  local major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)
  local minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff)
  local f = open_file(("/sys/dev/block/%d:%d/uevent"):format(major, minor))
  local name = f and f:read("a"):match("DEVNAME=([^\n]+)")
  if f then f:close() end
  if not name then return nil, "no device" end
  return "/dev/" .. name
end

--- Whether every filesystem mounted at or under directory prefix (ending
-- in "/") is dev: then the files under it are all on dev.
local function only_dev_under(mounts, prefix, dev)
  for d, list in pairs(mounts) do
    for _, m in ipairs(list) do
      if d ~= dev and (m.mountpoint .. "/"):sub(1, #prefix) == prefix then return false end
    end
  end
  return true
end

-- fname -> option name -> its declaration (core.options): what the core
-- checks, and which ones (scope "lua") are resolved here.
local declared = {}
for _, fname in ipairs { "pagecache", "cached_files" } do
  declared[fname] = {}
  for _, o in ipairs(core.options[fname]) do declared[fname][o.name] = o end
end

local function argerror(fname, fmt, ...)
  error(("bad argument #1 to '%s' (%s)"):format(fname, fmt:format(...)), 4)
end

-- The (dev, inode) pairs of the files tasks hold open or mapped (of one
-- process, or of all when pid is nil), from a files{} and a vmas{} walk.
local function held_files(fname, pid)
  local set = {}
  for _, walk in ipairs { core.files, core.vmas } do
    local step, it, errno, closing = walk { pid = pid }
    if not step then
      -- the message names the function the user called
      return nil, fname .. ": " .. (it:match("^%w+: (.*)$") or it), errno
    end
    local _ <close> = closing
    for r in step, it do
      if r.inode and r.inode ~= 0 then set[r.dev .. ":" .. r.inode] = true end
    end
  end
  return set
end

-- User options -> options for the core walk, and what the reader filters.
-- Returns nil, message, errno when path= or pid= cannot be resolved.
local function split_options(fname, opts)
  if opts ~= nil and type(opts) ~= "table" then
    argerror(fname, "table expected, got %s", type(opts))
  end
  local problem = core.check_options(fname, opts)
  if problem then argerror(fname, "%s", problem) end
  local kernel, filter = {}, {}
  for k, v in pairs(opts or {}) do
    -- fields: projected here, after the paths are resolved from fields
    -- the caller may not ask for
    if declared[fname][k].scope == "lua" or k == "fields" then filter[k] = v else kernel[k] = v end
  end
  if filter.path then
    local id, msg, errno = core.file_identity(filter.path)
    if not id then return nil, fname .. ": " .. (msg:match("^%w+: (.*)$") or msg), errno end
    if id.is_dir then
      filter.prefix = id.path == "/" and "/" or id.path .. "/"
      -- no other filesystem mounted beneath: walk only this one
      local mounts, msg, errno = M.mounts()
      if not mounts then return nil, fname .. ": " .. msg, errno end
      if kernel.dev == nil and only_dev_under(mounts, filter.prefix, id.dev) then
        kernel.dev = id.dev
      end
    else
      -- file= lets the program find the inode through an fd the walk
      -- holds, not by walking the filesystem's inodes; dev and ino then
      -- name the same file, and stay as the filter if it cannot be held.
      kernel.file, kernel.dev, kernel.ino = id.path, id.dev, id.ino
    end
  end
  if filter.pid or kernel.scope == "open" then
    -- Exact: the files tasks hold now. The kernel's own test (scope =
    -- "open" in the program) only skips inodes nobody can hold.
    local set, msg, errno = held_files(fname, filter.pid)
    if not set then return nil, msg, errno end
    filter.set = set
    kernel.scope = "open"
  end
  return kernel, filter
end

local function wanted(r, filter)
  if filter.prefix and not (r.path and (r.path .. "/"):sub(1, #filter.prefix) == filter.prefix) then
    return false
  end
  return not filter.set or filter.set[r.dev .. ":" .. r.inode] ~= nil
end

-- Only the named fields of r (the fields option).
local function project(r, fields)
  local out = {}
  for _, f in ipairs(fields) do out[f] = r[f] end
  return out
end

-- The generic-for quadruple of a core walk whose records get paths.
local function walk(fname, opts)
  local kernel, filter, errno = split_options(fname, opts)
  if not kernel then return nil, filter, errno end
  local mounts, msg, errno2 = M.mounts()
  if not mounts then return nil, fname .. ": " .. msg, errno2 end
  local step, it, _, closing = core[fname](kernel)
  if not step then return nil, it, _ end
  local last_dev, last_rel, last_path, last_err
  local devices = {} -- rdev -> {path, error}: block-device caches
  local want_dev, want_ino, want -- wanted() of the file the records are of
  -- Takes the iterator as its argument, never as an upvalue, so that
  -- dropping the iterator lets the collector release it.
  local function next_record(iterator)
    while true do
      local r = step(iterator)
      if r == nil then return nil end
      local rel = r.relpath
      if r.fstype == "bdev" and r.rdev then
        -- the cache of a block device: named by the device, not a path
        local d = devices[r.rdev]
        if not d then
          d = { M.block_device_path(r.rdev) }
          devices[r.rdev] = d
        end
        r.path, r.path_error = d[1], d[2]
      elseif rel then
        if rel ~= last_rel or r.dev ~= last_dev then
          last_dev, last_rel = r.dev, rel
          last_path, last_err = M.resolve(mounts, r.dev, rel)
        end
        r.path, r.path_error = last_path, last_err
      end
      -- a file's records come together: decide once per file
      if r.inode ~= want_ino or r.dev ~= want_dev then
        want_dev, want_ino, want = r.dev, r.inode, wanted(r, filter)
      end
      if want then return filter.fields and project(r, filter.fields) or r end
    end
  end
  return next_record, it, nil, closing
end

--- pagecache{...}: one record per cached folio (see README).
function M.pagecache(opts) return walk("pagecache", opts) end

--- cached_files{...}: one record per inode with cached pages (see README).
function M.cached_files(opts) return walk("cached_files", opts) end

--- The page map of the files opts selects (typically path=) as compact
-- runs, built in the kernel (pagecache{runs = true}): consecutive pages of
-- one file with the same flags make one run {path =, inode =, first =,
-- last =, pages =, <flag> = true, ...}. Returns the runs, or nil, message,
-- errno.
function M.page_runs(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.runs = true
  local step, it, _, closing = walk("pagecache", o)
  if not step then return nil, it, _ end
  local _ <close> = closing
  local runs = {}
  for r in step, it do
    r.first, r.last = r.index, r.index + r.pages - 1
    runs[#runs + 1] = r
  end
  return runs
end

return M
