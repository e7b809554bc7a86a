-- Run by spec/10-sockets_spec.lua in a network namespace of its own (so
-- every socket there is the fixtures'): `lua5.4 socket_walks.lua OUT KIND
-- N PROCS RUNS` spreads about N sockets of KIND over PROCS fixture
-- processes (spec/sockets.c "many"; a process may hold 20,000 fds), walks
-- them RUNS times and writes to OUT, as JSON, for every walk: how many of
-- the sockets the fixtures made it missed, how many it gave twice (a few
-- inodes of each), and how it differs from the namespace's /proc/net
-- table; plus the unix sockets whose type or address differs from
-- /proc/net/unix and ss -xa. A fresh Lua state: the unix walk starts with
-- the program's first ring (1 MiB) and must grow it.
local bpfiter, cjson, H = require "bpfiter", require "cjson", require "helper"

local out, kind, n, procs, runs = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])

local PROC_TABLES = {
  unix = { "/proc/net/unix" }, netlink = { "/proc/net/netlink" },
  tcp = { "/proc/net/tcp", "/proc/net/tcp6" }, udp = { "/proc/net/udp", "/proc/net/udp6" },
}
-- The inode column of each table (the first line is a header).
local INODE_COLUMN = { unix = 7, netlink = 10, tcp = 10, udp = 10 }

local function proc_table()
  local by = {}
  for _, path in ipairs(PROC_TABLES[kind]) do
    local first = true
    for line in (H.read_file(path) or ""):gmatch("[^\n]+") do
      if not first then
        local w = {}
        for x in line:gmatch("%S+") do w[#w + 1] = x end
        by[tonumber(w[INODE_COLUMN[kind]])] = w
      end
      first = false
    end
  end
  return by
end

local UNIX_TYPES = { stream = "0001", dgram = "0002", seqpacket = "0005" }

-- Path-bound sockets on tmpfs: binding one on /tmp's ext4 costs a
-- journalled inode (about a millisecond).
local function shm_dir()
  local p = io.popen("env -u LD_PRELOAD mktemp -d /dev/shm/bpfiter-spec.XXXXXX")
  local dir = p:read("l")
  p:close()
  return dir
end

local fixtures, made, dirs = {}, {}, {}
local ok, err = pcall(function()
  for i = 1, procs do
    dirs[i] = assert(shm_dir())
    local fx = H.spawn("sockets", "many", kind, n // procs, dirs[i])
    fixtures[#fixtures + 1] = fx
    for line in io.lines(fx.info.inodes:match("^(%S+)")) do
      local ino, label = line:match("^(%d+) (%S+)")
      made[tonumber(ino)] = label
    end
  end
  local proc = proc_table()
  local result = { made = 0, labels = {}, walks = {}, unlike_proc = {}, proc_missing = 0 }
  local ss = {}
  if kind == "unix" then
    -- ss -xa: column 6 the inode (ss lists no socket without one)
    for line in H.run("env -u LD_PRELOAD ss -H -xa"):gmatch("[^\n]+") do
      local w = {}
      for x in line:gmatch("%S+") do w[#w + 1] = x end
      ss[tonumber(w[6])] = true
    end
    result.ss_missing = 0
  end
  for ino, label in pairs(made) do
    if kind == "unix" and not ss[ino] then result.ss_missing = result.ss_missing + 1 end
    result.made = result.made + 1
    result.labels[label] = (result.labels[label] or 0) + 1
    if not proc[ino] then result.proc_missing = result.proc_missing + 1 end
  end
  for run = 1, runs do
    local seen, walk = {}, { missing = {}, twice = {}, records = 0 }
    for r in bpfiter[kind]() do
      walk.records = walk.records + 1
      if seen[r.inode] and r.inode ~= 0 then walk.twice[#walk.twice + 1] = r.inode end
      seen[r.inode] = r
    end
    for ino in pairs(made) do
      if not seen[ino] then walk.missing[#walk.missing + 1] = ino end
    end
    local extra = 0
    for ino in pairs(seen) do
      if ino ~= 0 and not proc[ino] then extra = extra + 1 end
    end
    walk.not_in_proc = extra
    walk.proc_not_walked = 0
    for ino in pairs(proc) do
      if ino ~= 0 and not seen[ino] then walk.proc_not_walked = walk.proc_not_walked + 1 end
    end
    if kind == "unix" and run == 1 then
      for ino in pairs(made) do
        local r, p = seen[ino], proc[ino]
        -- /proc/net/unix: column 5 the type, 8 the address (@ for abstract)
        if r and p and (UNIX_TYPES[r.type] ~= p[5] or r.path ~= p[8]) then
          result.unlike_proc[#result.unlike_proc + 1] = ("%d: %s %s, proc %s %s")
            :format(ino, r.type, tostring(r.path), p[5], tostring(p[8]))
        end
      end
    end
    -- counts, and a few inodes to look at
    walk.missed, walk.given_twice = #walk.missing, #walk.twice
    walk.missing = { table.unpack(walk.missing, 1, math.min(#walk.missing, 5)) }
    walk.twice = { table.unpack(walk.twice, 1, math.min(#walk.twice, 5)) }
    result.walks[run] = walk
  end
  local f = assert(io.open(out, "w"))
  f:write(cjson.encode(result))
  f:close()
end)
for _, fx in ipairs(fixtures) do fx.stop() end
for _, dir in ipairs(dirs) do
  if dir:match("^/dev/shm/bpfiter%-spec%.") then os.execute("rm -rf '" .. dir .. "'") end
end
assert(ok, err)
