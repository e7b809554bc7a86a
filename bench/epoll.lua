--- bpfiter.epoll against the CRIU way of dumping epoll sets: for each
-- process, find its epoll fds (readlink of /proc/PID/fd/*), parse
-- /proc/PID/fdinfo/EPFD for each, and ask kcmp(KCMP_EPOLL_TFD) per item
-- whether its registered fd still refers to the watched file.
--
--   LUA_PATH=... LUA_CPATH=... BPFITER_BUILD=... lua5.4 bench/epoll.lua
--   (after make all fixtures; needs root)
--
-- Fixtures: 100 processes with one set each of 10, 100 and 1,000 items
-- (1,000 to 100,000 items in all; spec/epoll_fixture.c). Sides:
--   bpfiter       one system-wide walk, the fixture's records kept
--   bpfiter/pid   one walk per process (pid = N)
--   criu (Lua)    the CRIU way in Lua, kcmp through spec/kcmp_helper
--                 (one helper process for all items, fed a file)
--   criu (C)      the CRIU way entirely in C (kcmp_helper criu PID...)
-- Every figure is the median of RUNS runs after WARMUP, the sides
-- alternating; ratios are alternative / bpfiter. Wall clock, CLOCK_MONOTONIC.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"
local common = require "common"
local command_output = common.command_output

local RUNS, WARMUP = 5, 1
local PROCS, SIZES = 100, { 10, 100, 1000 }

local cleanup = {}

local now = common.build_clock(cleanup).now

--- Median ns of each function, run alternately, and each one's last result.
local function compare(fns)
  return common.compare(now, RUNS, WARMUP, fns)
end

-- ---- the sides ----

-- One bpfiter.epoll walk per options table, keeping the records keep(r)
-- accepts; the run returns how many.
local function bpfiter_walks(opts_list, keep)
  return function() return select(2, common.walks(bpfiter.epoll, opts_list, keep)) end
end

local function bpfiter_all(pids)
  return bpfiter_walks({ {} }, function(r) return pids[r.pid] end)
end

local function bpfiter_per_pid(list)
  local opts_list = {}
  for i, pid in ipairs(list) do opts_list[i] = { pid = pid } end
  return bpfiter_walks(opts_list)
end

--- The CRIU way in Lua: records {pid, epfd, tfd, events, data, pos, inode,
-- sdev, path, same_file}. Paths come from the readlink pass that finds the
-- epoll fds (CRIU has them from dumping the fds).
local function criu_lua(list)
  local dir = H.mktemp_dir()
  cleanup[#cleanup + 1] = function() H.rm_rf(dir) end
  local input = dir .. "/triples"
  return function()
    local out, n, triples = {}, 0, {}
    for _, pid in ipairs(list) do
      local base = "/proc/" .. pid
      local links = {}
      for e in lfs.dir(base .. "/fd") do
        if e:byte(1) >= 48 and e:byte(1) <= 57 then
          local a = lfs.symlinkattributes(base .. "/fd/" .. e)
          links[tonumber(e)] = a and a.target
        end
      end
      for fd, link in pairs(links) do
        if link == "anon_inode:[eventpoll]" then
          local f = io.open(base .. "/fdinfo/" .. fd, "rb")
          local text = f:read("a")
          f:close()
          for tfd, events, data, pos, ino, sdev in text:gmatch(
              "tfd:%s*(%d+) events:%s*(%x+) data:%s*(%x+)%s+pos:(%-?%d+) ino:(%x+) sdev:(%x+)") do
            tfd = tonumber(tfd)
            n = n + 1
            out[n] = {
              pid = pid, epfd = fd, tfd = tfd, events = tonumber(events, 16),
              data = tonumber(data, 16), pos = tonumber(pos), inode = tonumber(ino, 16),
              sdev = tonumber(sdev, 16), path = links[tfd],
            }
            triples[n] = pid .. " " .. fd .. " " .. tfd
          end
        end
      end
    end
    local f = assert(io.open(input, "wb"))
    f:write(table.concat(triples, "\n"), "\n")
    f:close()
    local p = assert(io.popen(H.build .. "/kcmp_helper < " .. input))
    local i = 0
    for line in p:lines() do
      i = i + 1
      out[i].same_file = line == "0"
    end
    p:close()
    assert(i == n, "kcmp_helper answered " .. i .. " of " .. n)
    return n
  end
end

local function criu_c(list)
  local cmd = H.build .. "/kcmp_helper criu " .. table.concat(list, " ")
  return function()
    return tonumber(command_output(cmd):match("items (%d+)"))
  end
end

-- ---- run ----

local function fmt_ms(ns) return ("%.2f ms"):format(ns / 1e6) end

local function main()
  print("## bpfiter.epoll vs the CRIU way")
  print()
  print(("- %d processes, one epoll set each; median of %d runs after %d warm-up, "
    .. "sides alternating; ratio = alternative / bpfiter"):format(PROCS, RUNS, WARMUP))
  print()
  print("| items in all | bpfiter (system walk) | bpfiter (walk per pid) | criu, Lua + kcmp helper "
    .. "| criu, C | ratio Lua / bpfiter | ratio C / bpfiter |")
  print("|---:|---:|---:|---:|---:|---:|---:|")
  local times = {}
  for _, size in ipairs(SIZES) do
    local fx = H.spawn("epoll_fixture", "many", PROCS, size)
    cleanup[#cleanup + 1] = fx.stop
    local pids, list = {}, {}
    for pid in H.read_file(fx.dir .. "/ready"):gmatch("child (%d+) %d+") do
      pids[tonumber(pid)] = true
      list[#list + 1] = tonumber(pid)
    end
    local t, counts = compare { bpfiter_all(pids), bpfiter_per_pid(list), criu_lua(list), criu_c(list) }
    local total = PROCS * size
    for i, c in ipairs(counts) do
      assert(c == total, ("side %d found %d items, want %d"):format(i, c, total))
    end
    times[#times + 1] = { total = total, t = t }
    print(("| %d | %s | %s | %s | %s | %.1f× | %.1f× |"):format(total, fmt_ms(t[1]), fmt_ms(t[2]),
      fmt_ms(t[3]), fmt_ms(t[4]), t[3] / t[1], t[4] / t[1]))
    fx.stop()
  end
  print()
  print("Scaling (time ratio for each 10× more items; linear is 10×, target ≤ 12×):")
  print()
  print("| items | bpfiter | bpfiter/pid | criu Lua | criu C |")
  print("|---|---:|---:|---:|---:|")
  for i = 2, #times do
    local a, b = times[i - 1], times[i]
    print(("| %d → %d | %.1f× | %.1f× | %.1f× | %.1f× |"):format(a.total, b.total,
      b.t[1] / a.t[1], b.t[2] / a.t[2], b.t[3] / a.t[3], b.t[4] / a.t[4]))
  end
  local first, last = times[1], times[#times]
  print()
  print(("Overall %d → %d items: bpfiter %.1f×, criu Lua %.1f×, criu C %.1f×."):format(
    first.total, last.total, last.t[1] / first.t[1], last.t[3] / first.t[3], last.t[4] / first.t[4]))
end

local ok, err = pcall(main)
for i = #cleanup, 1, -1 do pcall(cleanup[i]) end
if not ok then error(err, 0) end
