--- The alternatives bpfiter is measured against: plain Lua reading /proc
-- text, written the way a careful script would (one read per file, one
-- pattern per line), each building an array of records shaped like
-- bpfiter's.
local lfs = require "lfs"

local B = {}

--- Processes the /proc walks skip. BPF iterators cannot see this machine's
-- pid 1 (see KERNEL-NOTES), so run.lua puts it here to make both sides
-- produce the same records.
B.skip_pids = {}

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end -- the task or fd went away meanwhile
  local s = f:read("a")
  f:close()
  return s
end

local function command_number(cmd, default)
  local p = io.popen(cmd)
  local n = p and tonumber(p:read("a"))
  if p then p:close() end
  return n or default
end

local CLK_TCK = command_number("getconf CLK_TCK", 100)
local PAGE_SIZE = command_number("getconf PAGESIZE", 4096)
local NS_PER_TICK = 1000000000 // CLK_TCK

local function numeric_entries(dir)
  local ok, iter, state = pcall(lfs.dir, dir)
  if not ok then return function() return nil end end -- the process is gone
  return function()
    for e in iter, state do
      if e:byte(1) >= 48 and e:byte(1) <= 57 then return e end
    end
  end
end

local function processes()
  local next_entry = numeric_entries("/proc")
  return function()
    for p in next_entry do
      if not B.skip_pids[tonumber(p)] then return p end
    end
  end
end

--- Every thread from /proc/*/task/*/stat. Gives the fields stat carries;
-- bpfiter's uid/gid, cgroup_id, runtime_ns and exe would need status,
-- cgroup, schedstat and exe as well, so this favours /proc.
function B.proc_tasks()
  local out, n = {}, 0
  for p in processes() do
    local tgid = tonumber(p)
    for t in numeric_entries("/proc/" .. p .. "/task") do
      local s = read_all("/proc/" .. p .. "/task/" .. t .. "/stat")
      if s then
        -- comm may hold spaces and parentheses: it ends at the last ')'.
        local pid, comm, rest = s:match("^(%d+) %((.*)%) (.*)$")
        local f, i = {}, 2
        for w in rest:gmatch("%S+") do
          i = i + 1
          f[i] = w
        end
        n = n + 1
        out[n] = {
          pid = tonumber(pid), tgid = tgid, comm = comm, state = f[3],
          ppid = tonumber(f[4]), flags = tonumber(f[9]),
          min_flt = tonumber(f[10]), maj_flt = tonumber(f[12]),
          utime_ns = tonumber(f[14]) * NS_PER_TICK, stime_ns = tonumber(f[15]) * NS_PER_TICK,
          prio = tonumber(f[18]), nice = tonumber(f[19]), nr_threads = tonumber(f[20]),
          start_time_ns = tonumber(f[22]) * NS_PER_TICK, vsize = tonumber(f[23]),
          rss = tonumber(f[24]) * PAGE_SIZE, cpu = tonumber(f[39]),
        }
      end
    end
  end
  return out
end

--- Every thread's pid, comm, state and ppid from /proc/*/task/*/stat:
-- the four fields of the projection benchmark, and nothing more.
function B.proc_tasks4()
  local out, n = {}, 0
  for p in processes() do
    for t in numeric_entries("/proc/" .. p .. "/task") do
      local s = read_all("/proc/" .. p .. "/task/" .. t .. "/stat")
      if s then
        local pid, comm, state, ppid = s:match("^(%d+) %((.*)%) (%S+) (%d+)")
        n = n + 1
        out[n] = { pid = tonumber(pid), comm = comm, state = state, ppid = tonumber(ppid) }
      end
    end
  end
  return out
end

--- /proc/PID/maps as records shaped like bpfiter.vmas records.
function B.proc_maps(pid)
  local out, n = {}, 0
  local text = read_all("/proc/" .. pid .. "/maps") or ""
  for line in text:gmatch("[^\n]+") do
    local s, e, perms, off, maj, min, ino, path =
      line:match("^(%x+)-(%x+) (%S+) (%x+) (%x+):(%x+) (%d+)%s*(.*)$")
    n = n + 1
    out[n] = {
      pid = pid, start = tonumber(s, 16), ["end"] = tonumber(e, 16), perms = perms,
      offset = tonumber(off, 16), major = tonumber(maj, 16), minor = tonumber(min, 16),
      inode = tonumber(ino), path = path ~= "" and path or nil,
    }
  end
  return out
end

local function fd_kind(target)
  if not target then return nil end
  if target:byte(1) == 47 then return "path" end -- '/': a file system object
  return target:match("^([%w_]+):") or "other" -- socket, pipe, anon_inode...
end

--- Every fd of every process: lfs.dir over /proc/*/fd and a readlink
-- (lfs.symlinkattributes(...).target) per fd. Only path and a kind
-- guessed from it; bpfiter also gives pos, flags, mode, inode, dev.
function B.proc_fds()
  local out, n = {}, 0
  for p in processes() do
    local pid, dir = tonumber(p), "/proc/" .. p .. "/fd/"
    for e in numeric_entries(dir) do
      local a = lfs.symlinkattributes(dir .. e)
      local target = a and a.target
      n = n + 1
      out[n] = { pid = pid, fd = tonumber(e), path = target, kind = fd_kind(target) }
    end
  end
  return out
end

--- As proc_fds, plus /proc/PID/fdinfo/FD (pos, flags, mnt_id, ino): the
-- /proc way to get the fields bpfiter's files records carry.
function B.proc_fds_fdinfo()
  local out, n = {}, 0
  for p in processes() do
    local pid, dir, info_dir = tonumber(p), "/proc/" .. p .. "/fd/", "/proc/" .. p .. "/fdinfo/"
    for e in numeric_entries(dir) do
      local a = lfs.symlinkattributes(dir .. e)
      local target = a and a.target
      local info = read_all(info_dir .. e) or "" -- empty if the fd closed meanwhile
      local flags = info:match("flags:%s*(%d+)")
      n = n + 1
      out[n] = {
        pid = pid, fd = tonumber(e), path = target, kind = fd_kind(target),
        pos = tonumber(info:match("pos:%s*(%d+)")),
        flags = flags and tonumber(flags, 8),
        mnt_id = tonumber(info:match("mnt_id:%s*(%d+)")),
        inode = tonumber(info:match("ino:%s*(%d+)")),
      }
    end
  end
  return out
end

return B
