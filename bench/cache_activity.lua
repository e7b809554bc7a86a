--- The cost of bpfiter.cache_activity_collector to the page-cache work it
-- watches: the same workload (spec/cache_churn.c) with and without a
-- collector open, in one run, the two sides alternating.
--
--   LUA_PATH=... LUA_CPATH=... BPFITER_BUILD=... lua5.4 bench/cache_activity.lua
--   (after make all fixtures; needs root)
--
-- Workloads, on a file under /tmp (ext4 on the root filesystem):
--   read    drop the file from the cache (fadvise DONTNEED), read it all:
--           every page added and removed once per round; reads hit the disk
--   files   the same with 2,000 files of 16 KiB: small folios, one event
--           per page, and open/close around each read
--   write   write the file, truncate it to 0 before writeback: page-cache
--           adds, dirtying and removals at memory speed, no I/O (the worst
--           case for a tracer)
-- Each figure is the median of RUNS rounds' wall-clock time (CLOCK_MONOTONIC,
-- measured by the workload itself) after WARMUP; the ratio is with / without.
-- BENCH_CACHE_MIB sets the read file's size (default 512).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local bpfiter = require "bpfiter"
local H = require "helper"
local common = require "common"

local RUNS, WARMUP = 7, 1
local READ_MIB = tonumber(os.getenv("BENCH_CACHE_MIB")) or 512
local WRITE_MIB, WRITE_ROUNDS = 64, 8
local FILES, FILE_ROUNDS = 2000, 3

local cleanup = {}

local function churn(...)
  local cmd = ("%s/cache_churn %s 2>&1"):format(H.build, table.concat({ ... }, " "))
  local out = common.command_output(cmd)
  return assert(tonumber(out:match("^(%d+)")), cmd .. " failed: " .. out)
end

--- Median ns without and with a collector, and the pages the collector saw
-- added in its last run.
local function measure(mode, path, mib, rounds)
  local without, with, added = {}, {}, 0
  for r = 1, WARMUP + RUNS do
    local t0 = churn(mode, path, mib, rounds)
    local c = assert(bpfiter.cache_activity_collector())
    local t1 = churn(mode, path, mib, rounds)
    local rows = assert(c:read())
    c:close()
    added = 0
    for _, row in ipairs(rows) do added = added + row.added end
    if r > WARMUP then
      without[#without + 1], with[#with + 1] = t0, t1
    end
  end
  return common.median(without), common.median(with), added
end

local function main()
  local dir = H.mktemp_dir()
  cleanup[#cleanup + 1] = function() H.rm_rf(dir) end
  local path = dir .. "/data"
  assert(os.execute(("%s/cache_churn make %s %d"):format(H.build, path, READ_MIB)))

  print("## bpfiter.cache_activity_collector overhead")
  print()
  print(("- median of %d runs after %d warm-up, without and with a collector alternating; "
    .. "target ≤ 5%% slower on reads"):format(RUNS, WARMUP))
  print()
  print("| workload | without | with | slowdown | pages the collector saw added |")
  print("|---|---:|---:|---:|---:|")
  local cases = {
    { "read", ("read %d MiB after dropping it from the cache"):format(READ_MIB), READ_MIB, 1 },
    { "files", ("read %d files of 16 KiB after dropping each, ×%d"):format(FILES, FILE_ROUNDS),
      FILES, FILE_ROUNDS },
    { "write", ("write %d MiB + truncate, ×%d"):format(WRITE_MIB, WRITE_ROUNDS), WRITE_MIB, WRITE_ROUNDS },
  }
  for _, case in ipairs(cases) do
    local mode, label, mib, rounds = table.unpack(case)
    local where = path
    if mode == "files" then
      where = dir .. "/files"
      assert(require("lfs").mkdir(where))
    end
    local a, b, added = measure(mode, where, mib, rounds)
    local total = mode == "files" and mib * rounds * 16 / 1024 or mib * rounds
    print(("| %s | %.1f ms (%.0f MiB/s) | %.1f ms (%.0f MiB/s) | %+.1f%% | %d |"):format(label,
      a / 1e6, total / (a / 1e9), b / 1e6, total / (b / 1e9), (b / a - 1) * 100, added))
  end
end

local ok, err = pcall(main)
for i = #cleanup, 1, -1 do pcall(cleanup[i]) end
if not ok then error(err, 0) end
