--- bpfiter benchmarks: each walk against the /proc way of getting the same
-- records, in one run, printed as a markdown table.
--
--   make bench                         (uses build/)
--   LUA_PATH=... LUA_CPATH=... BPFITER_BUILD=... lua5.4 bench/run.lua
--
-- Times are wall clock (CLOCK_MONOTONIC, from bench/clock.c compiled at
-- run time: Lua itself has no monotonic clock). Every figure is the median
-- of RUNS runs after WARMUP unmeasured ones; the two sides of a comparison
-- alternate run by run so drift in machine load hits both alike. A full
-- garbage collection precedes each run and is not counted; collections
-- during a run are, for both sides.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local H = require "helper"
local baselines = require "baselines"
local common = require "common"
local shell_quote, command_output, median = common.shell_quote, common.command_output, common.median

-- This machine's pid 1 is invisible to BPF iterators: leave it out of the
-- /proc walks too, so both sides produce the same records.
baselines.skip_pids[1] = true

local RUNS, WARMUP = 7, 1
local RSS_PASSES, RSS_FIRST_SAMPLE = 200, 10
local THREADS, MAPPINGS, SELF_FDS, FILE_FIXTURES = 5000, 10000, 5000, 3
local LUA = common.interpreter()

local cleanup = {} -- functions run at exit, last registered first

-- ---- clock ----

local clock, CLOCK_SO = common.build_clock(cleanup)
local now = clock.now

-- ---- measuring ----

--- Median ns of each function (run alternately) and the last result of each.
local function compare(...)
  return common.compare(now, RUNS, WARMUP, { ... })
end

local function collect(step, it, ...)
  assert(step, it)
  local out, n = {}, 0
  for rec in step, it, ... do
    n = n + 1
    out[n] = rec
  end
  return out
end

local function run_command(cmd)
  return function() return command_output(cmd) end
end

local function lines(text)
  local n = 0
  for _ in text:gmatch("[^\n]*\n") do n = n + 1 end
  return n
end

-- ---- reporting ----

local fmt_time, fmt_count = common.fmt_time, common.fmt_count

local function fmt_rate(records, ns)
  local r = records / (ns / 1e9)
  if r >= 1e6 then return ("%.2f M rec/s"):format(r / 1e6) end
  return ("%.0f k rec/s"):format(r / 1e3)
end

local rows, notes, env = {}, {}, {}

--- A comparison row: ratio = alternative / bpfiter, met when ≥ target.
local function ratio_row(what, bp_ns, alt_ns, target)
  local ratio = alt_ns / bp_ns
  rows[#rows + 1] = {
    what, fmt_time(bp_ns), fmt_time(alt_ns), ("%.1f×"):format(ratio),
    target and ("≥ %g×"):format(target) or "—",
    target and (ratio >= target and "yes" or "**NO**") or "—",
  }
end

local function row(what, bp, alt, ratio, target, met)
  rows[#rows + 1] = { what, bp, alt or "—", ratio or "—", target or "—",
    met == nil and "—" or (met and "yes" or "**NO**") }
end

local function print_report()
  print("## bpfiter benchmark")
  print()
  for _, line in ipairs(env) do print("- " .. line) end
  print()
  common.print_table("| what | bpfiter | alternative | ratio (alt / bpfiter) | target | met? |",
    "|---|---:|---:|---:|---|---|", rows)
  print()
  for _, line in ipairs(notes) do print("- " .. line) end
end

-- ---- the process's own state ----

local function vm_rss_kib()
  return tonumber(H.read_file("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

local function count_tasks_in_proc()
  local lfs = require "lfs"
  local n = 0
  for p in lfs.dir("/proc") do
    if p:match("^%d+$") then
      local ok, iter, state = pcall(lfs.dir, "/proc/" .. p .. "/task")
      if ok then
        for t in iter, state do
          if t:match("^%d+$") then n = n + 1 end
        end
      end
    end
  end
  return n
end

-- ---- the benchmarks ----

local function bench_startup()
  -- In a fresh interpreter: clock read, require, open, first record, clock
  -- read. The interpreter's own start and the clock library's loading are
  -- outside the interval; this is exactly "require to first record".
  local inner = ('local now = package.loadlib(%q, "luaopen_bench_clock")().now '
    .. 'local t0 = now() local bpfiter = require("bpfiter") '
    .. 'local step, it = bpfiter.tasks() assert(step(it)) io.write(now() - t0)'):format(CLOCK_SO)
  local cmd = LUA .. " -e " .. shell_quote(inner)
  for _ = 1, WARMUP do command_output(cmd) end
  local inside = {}
  for r = 1, RUNS do inside[r] = assert(tonumber(command_output(cmd)), "startup probe failed") end
  local t_inside = median(inside)
  row("`require` → first task record, fresh `lua5.4` (clock inside the process)",
    fmt_time(t_inside), nil, nil, "≤ 50 ms", t_inside <= 50e6)

  -- Cross-check from outside: whole process minus an empty interpreter.
  local first = LUA .. " -e " .. shell_quote('local step, it = require("bpfiter").tasks() assert(step(it))')
  local empty = LUA .. " -e ''"
  local m = compare(run_command(first), run_command(empty))
  local extra = m[1] - m[2]
  row(("same, whole process minus an empty `lua5.4 -e ''` (%s)"):format(fmt_time(m[2])),
    fmt_time(extra), nil, nil, "≤ 50 ms", extra <= 50e6)
end

local function bench_tasks()
  local bpfiter = require "bpfiter"
  local fx = H.fixture("threads", THREADS, "benchthr")
  cleanup[#cleanup + 1] = fx.stop

  local function bp() return collect(bpfiter.tasks()) end
  local m, res = compare(bp, baselines.proc_tasks)
  local n_bp, n_proc = #res[1], #res[2]
  env[#env + 1] = ("tasks: %s threads fixture (pid %d) running; bpfiter walked %s tasks, "
    .. "/proc/*/task/* %s"):format(
    fmt_count(THREADS), fx.pid, fmt_count(n_bp), fmt_count(n_proc))
  ratio_row(("tasks, full walk into tables (%s records) vs Lua parsing /proc/*/task/*/stat")
    :format(fmt_count(n_bp)), m[1], m[2], 20)

  -- Against ps: both as whole processes writing the same four columns.
  local ps = "exec ps -eLo pid,tid,comm,stat"
  local sub = "exec " .. LUA .. " -e " .. shell_quote(
    'local out, n = {}, 0 for t in require("bpfiter").tasks() do n = n + 1 '
    .. 'out[n] = t.tgid .. " " .. t.pid .. " " .. t.comm .. " " .. t.state end '
    .. 'io.write(table.concat(out, "\\n"), "\\n")')
  local m2, res2 = compare(run_command(sub), run_command(ps), bp)
  env[#env + 1] = ("ps: `ps -eLo pid,tid,comm,stat` printed %s lines (with header); the bpfiter "
    .. "subprocess printed %s"):format(fmt_count(lines(res2[2])), fmt_count(lines(res2[1])))
  ratio_row("tasks as a whole process (`lua5.4 -e` require + walk + print) vs `ps -eLo pid,tid,comm,stat`",
    m2[1], m2[2], 5)
  ratio_row("tasks in-process walk vs `ps -eLo ...` process (not like for like)", m2[3], m2[2], nil)

  row("tasks decode throughput (in-process walk)", fmt_rate(n_bp, m[1]),
    fmt_rate(n_proc, m[2]) .. " (/proc)", nil, nil, nil)

  fx.stop()
end

local function bench_files()
  local bpfiter = require "bpfiter"
  for _ = 1, FILE_FIXTURES do
    local fx = H.fixture("files", "$DIR")
    cleanup[#cleanup + 1] = fx.stop
  end
  -- Thousands of fds in this process: half /dev/null, half a regular file.
  local dir = H.mktemp_dir()
  local regular = dir .. "/regular"
  assert(io.open(regular, "w")):close()
  local handles = {}
  local function close_all()
    for i, f in ipairs(handles) do f:close(); handles[i] = nil end
    H.rm_rf(dir)
  end
  cleanup[#cleanup + 1] = close_all
  for i = 1, SELF_FDS do
    handles[i] = assert(io.open(i % 2 == 0 and "/dev/null" or regular, "r"))
  end

  local function bp() return collect(bpfiter.files()) end
  local m, res = compare(bp, baselines.proc_fds, baselines.proc_fds_fdinfo)
  env[#env + 1] = ("files: %d files fixtures + %s fds held by the bench process; bpfiter saw %s fds, "
    .. "/proc/*/fd %s"):format(FILE_FIXTURES, fmt_count(SELF_FDS), fmt_count(#res[1]), fmt_count(#res[2]))
  ratio_row(("files, all processes (%s records) vs Lua lfs.dir /proc/*/fd + readlink per fd")
    :format(fmt_count(#res[1])), m[1], m[2], 10)
  ratio_row("files vs the same plus /proc/PID/fdinfo/FD per fd (pos, flags, mnt_id, ino)",
    m[1], m[3], nil)
  close_all()
end

local function bench_vmas()
  local bpfiter = require "bpfiter"
  local fx = H.fixture("maps", MAPPINGS, "$DIR")
  cleanup[#cleanup + 1] = fx.stop
  local pid = fx.pid

  local function bp() return collect(bpfiter.vmas { pid = pid }) end
  local m, res = compare(bp, function() return baselines.proc_maps(pid) end)
  env[#env + 1] = ("vmas: maps fixture (pid %d): %s mappings with PROT_NONE gaps between them; "
    .. "bpfiter %s records, /proc/PID/maps %s lines"):format(pid, fmt_count(MAPPINGS),
    fmt_count(#res[1]), fmt_count(#res[2]))
  ratio_row(("vmas of one process (%s records) vs Lua parsing /proc/PID/maps"):format(fmt_count(#res[1])),
    m[1], m[2], 3)
  row("vmas decode throughput", fmt_rate(#res[1], m[1]), fmt_rate(#res[2], m[2]) .. " (/proc)",
    nil, nil, nil)

  -- A long walk: RSS after pass RSS_FIRST_SAMPLE and after the last, each
  -- after a full collection. A per-pass leak of one record (~100 B) would
  -- show as ~19 KiB; of one read buffer, as megabytes.
  local rss_first, heap_first, fds_first
  local t0 = now()
  for pass = 1, RSS_PASSES do
    local n = 0
    for _ in bpfiter.vmas { pid = pid } do n = n + 1 end
    assert(n == #res[1], "a pass saw a different number of mappings")
    if pass == RSS_FIRST_SAMPLE then
      collectgarbage("collect"); collectgarbage("collect")
      rss_first, heap_first, fds_first = vm_rss_kib(), collectgarbage("count"), H.fd_count()
    end
  end
  local elapsed = now() - t0
  collectgarbage("collect"); collectgarbage("collect")
  local rss_last, heap_last, fds_last = vm_rss_kib(), collectgarbage("count"), H.fd_count()
  local growth = rss_last - rss_first
  row(("RSS over %d vmas passes (%s records, %s): growth pass %d → %d")
      :format(RSS_PASSES, fmt_count(RSS_PASSES * #res[1]), fmt_time(elapsed), RSS_FIRST_SAMPLE, RSS_PASSES),
    ("%+d KiB (%d → %d KiB)"):format(growth, rss_first, rss_last), nil, nil, "flat: < 256 KiB",
    growth < 256)
  notes[#notes + 1] = ("RSS walk: Lua heap %.0f → %.0f KiB, open fds %d → %d.")
    :format(heap_first, heap_last, fds_first, fds_last)
  fx.stop()
end

-- ---- main ----

local function main()
  local bpfiter = require "bpfiter"
  local ncpu = 0
  for _ in (H.read_file("/proc/cpuinfo") or ""):gmatch("\nprocessor%s*:") do ncpu = ncpu + 1 end
  if (H.read_file("/proc/cpuinfo") or ""):match("^processor") then ncpu = ncpu + 1 end
  env[#env + 1] = ("kernel %s, %d CPUs, %s, bpfiter %s, tasks at start: %s")
    :format((H.read_file("/proc/sys/kernel/osrelease") or "?"):match("%S+"), ncpu, _VERSION,
      tostring(bpfiter.version), fmt_count(count_tasks_in_proc()))
  env[#env + 1] = ("each figure: median of %d runs after %d warm-up; comparisons alternate their sides run by run")
    :format(RUNS, WARMUP)

  bench_startup()
  bench_tasks()
  bench_files()
  bench_vmas()

  notes[#notes + 1] = "pid 1 (and its threads and fds) is invisible to BPF iterators on this machine; "
    .. "the /proc scripts skip it so both sides build the same records. ps cannot skip it (~13 more lines)."
  notes[#notes + 1] = "The /proc tasks script reads stat only (no uid/gid, cgroup, exe, precise runtime: "
    .. "those need more files per task), so it does less than bpfiter."
  notes[#notes + 1] = "Subprocess rows time the whole command as the parent sees it: fork/exec, "
    .. "interpreter start, BPF program load and verification, the walk, printing and the pipe read."
  notes[#notes + 1] = "Startup: Lua has no monotonic clock, so bench/clock.c (clock_gettime(CLOCK_MONOTONIC)) "
    .. "is compiled at run time and loaded in the child before the interval starts."
end

common.run(main, cleanup, print_report)
