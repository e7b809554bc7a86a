--- The CLI against the tools it replaces, as whole processes, and the
-- in-process projection rows (issue 13): one markdown table with the goal
-- and met/missed per row.
--
--   make bench          (this is one of its scripts)
--
-- Whole processes: each side is started by io.popen and its output read
-- to the end (the same pipe cost for both), median of RUNS runs after
-- WARMUP, the two sides alternating. bpfiter runs with its verified-
-- program cache warm, in a private bpffs mounted for the run and removed
-- at the end (the default cache directory is left as it was).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local H = require "helper"
local baselines = require "baselines"
local common = require "common"
local bpfiter = require "bpfiter"

baselines.skip_pids[1] = true -- invisible to BPF iterators here (see run.lua)

local RUNS, WARMUP = 7, 1
local cleanup, rows, env, notes = {}, {}, {}, {}
local clock = common.build_clock(cleanup)
local now = clock.now
local fmt_time, fmt_count, q = common.fmt_time, common.fmt_count, common.shell_quote
local BIN = here .. "/../bin/bpfiter"
local LUA = common.interpreter()

local function compare(...) return common.compare(now, RUNS, WARMUP, { ... }) end

local function lines(text)
  local n = 0
  for _ in text:gmatch("[^\n]*\n") do n = n + 1 end
  return n
end

local function ratio_row(what, bp_ns, alt_ns, goal)
  local ratio = alt_ns / bp_ns
  rows[#rows + 1] = { what, fmt_time(bp_ns), fmt_time(alt_ns), ("%.2f×"):format(ratio),
    goal and ("≥ %g×"):format(goal) or "—", goal and (ratio >= goal and "met" or "**missed**") or "—" }
end

local function row(what, bp, alt, goal, met)
  rows[#rows + 1] = { what, bp, alt or "—", "—", goal or "—", met == nil and "—" or (met and "met" or "**missed**") }
end

-- ---- the program cache: a private directory, warm, removed at the end ----

local CACHE_DIR, CACHE_FS = H.private_bpffs()
cleanup[#cleanup + 1] = function() H.drop_private_bpffs(CACHE_DIR, CACHE_FS) end
local CACHE = CACHE_FS .. "/programs"
local ENV = "BPFITER_PROGRAM_CACHE=" .. CACHE .. " "

local function bp(args) return "exec env " .. ENV .. q(BIN) .. " " .. args end

local function run(cmd)
  return function() return common.command_output(cmd) end
end

local function whole_process(what, args, peer, goal)
  local m, res = compare(run(bp(args)), run(peer))
  ratio_row(("`bpfiter %s` vs `%s` (%s / %s lines)"):format(args, peer:gsub("^exec ", ""),
    fmt_count(lines(res[1])), fmt_count(lines(res[2]))), m[1], m[2], goal)
end

local function bench_whole()
  local maps = H.fixture("maps", 20000, "$DIR")
  cleanup[#cleanup + 1] = maps.stop
  local thr = H.fixture("threads", 3000, "benchthr")
  cleanup[#cleanup + 1] = thr.stop
  local dir = H.mktemp_dir()
  cleanup[#cleanup + 1] = function() H.rm_rf(dir) end
  local file = dir .. "/cached"
  os.execute(("dd if=/dev/zero of=%s bs=1M count=256 status=none && cat %s >/dev/null"):format(q(file), q(file)))

  -- warm: every target's program verified once into the cache
  for _, t in ipairs { "tcp", "unix", "bpf_progs", "bpf_maps", "ksyms", "tasks", "files" } do
    common.command_output(bp(t .. " --limit 1 >/dev/null 2>&1"))
  end
  common.command_output(bp(("vmas --pid %d --limit 1 >/dev/null 2>&1"):format(maps.pid)))

  local startup = LUA .. " -e " .. q('local s, i = require("bpfiter").tasks() assert(s(i))')
  local m = compare(run("exec env " .. ENV .. startup), run("exec " .. LUA .. " -e ''"))
  row("`require` → first task record, fresh `lua5.4`, cache warm, minus an empty `lua5.4 -e ''`",
    fmt_time(m[1] - m[2]), fmt_time(m[2]) .. " (empty)", "≤ 5 ms", m[1] - m[2] <= 5e6)

  whole_process("tcp", "tcp --csv", "exec ss -tan", 1)
  whole_process("unix", "unix --csv", "exec ss -xa", 1)
  whole_process("bpf_progs", "bpf_progs --json", "exec bpftool prog show --json", 1)
  whole_process("bpf_maps", "bpf_maps --json", "exec bpftool map show --json", 1)
  whole_process("vmas", ("vmas --pid %d --csv"):format(maps.pid), ("exec cat /proc/%d/maps"):format(maps.pid), 1)
  whole_process("ksyms", "ksyms --csv", "exec cat /proc/kallsyms", 1)
  whole_process("tasks", "tasks --csv --fields pid,tgid,ppid,state,comm", "exec ps -eLo pid,tid,ppid,stat,comm", 5)
  whole_process("files", "files --csv", "exec lsof -n -Ki", 5)
  whole_process("cache", "cache --path " .. q(file), "exec fincore " .. q(file), 1)
  maps.stop()
  thr.stop()
end

-- ---- in-process: projection against /proc parsers ----

local function walk(target, opts)
  local out, n = {}, 0
  for r in assert(bpfiter[target](opts)) do
    n = n + 1
    out[n] = r
  end
  return out
end

local function bench_projection()
  local thr = H.fixture("threads", 3000, "benchthr")
  cleanup[#cleanup + 1] = thr.stop
  local m, res = compare(function() return walk("tasks", { fields = { "pid", "comm", "state", "ppid" } }) end,
    baselines.proc_tasks4, function() return walk("tasks") end)
  ratio_row(("tasks{fields = {pid, comm, state, ppid}} (%s records) vs Lua /proc/*/task/*/stat parser")
    :format(fmt_count(#res[1])), m[1], m[2], 25)
  ratio_row("same, all fields (no projection)", m[3], m[2], nil)
  thr.stop()

  local maps = H.fixture("maps", 20000, "$DIR")
  cleanup[#cleanup + 1] = maps.stop
  local pid = maps.pid
  m, res = compare(function() return walk("vmas", { pid = pid, fields = { "start", "end", "perms", "path" } }) end,
    function() return baselines.proc_maps(pid) end)
  ratio_row(("vmas{pid, fields = {start, end, perms, path}} (%s records) vs Lua /proc/PID/maps parser")
    :format(fmt_count(#res[1])), m[1], m[2], 5)
  maps.stop()

  m, res = compare(function() return walk("files", { fields = { "fd", "path" } }) end, baselines.proc_fds)
  ratio_row(("files{fields = {fd, path}} (%s records) vs Lua readlink over /proc/*/fd"):format(fmt_count(#res[1])),
    m[1], m[2], 10)
end

-- ---- the CLI's output: cost per record, memory while streaming ----

local function bench_output()
  local format = require "bpfiter.format"
  local recs = walk("ksyms")
  local fields = bpfiter.fields.ksyms
  local null = assert(io.open("/dev/null", "w"))
  -- CPU time of this process (os.clock), median of RUNS passes: on a
  -- shared machine wall time per record mostly measures the other jobs.
  for _, fmt in ipairs { "csv", "jsonl", "table" } do
    local passes = {}
    for r = 1, RUNS do
      local w = format.writer(fmt, fields, { window = 1000 }, function(...) return null:write(...) end)
      collectgarbage("collect")
      local t0 = os.clock()
      for i = 1, #recs do w.row(recs[i]) end
      w.close()
      passes[r] = (os.clock() - t0) * 1e9 / #recs
    end
    local per = common.median(passes)
    local goal = fmt ~= "table" -- a table's cost is its alignment (widths of every cell)
    local met
    if goal then met = per <= 1000 end
    row(("--%s output per record, CPU (ksyms, %d fields, %s records, to /dev/null)"):format(fmt, #fields,
      fmt_count(#recs)), ("%.2f µs"):format(per / 1e3), nil, goal and "≤ 1 µs" or nil,
      met)
  end
  null:close()

  -- Peak RSS of a CLI process streaming every page-cache record as CSV,
  -- against the same process stopping after one record (--limit 1).
  -- (the CLI writes to io.stdout, here /dev/null; io.write still reaches the pipe)
  local function peak(args)
    local code = 'io.stdout = assert(io.open("/dev/null", "w")) require("bpfiter.cli").main(' .. args .. ') '
      .. 'io.write(io.open("/proc/self/status"):read("a"):match("VmHWM:%s*(%d+)"))'
    return tonumber(common.command_output("env " .. ENV .. LUA .. " -e " .. q(code)))
  end
  local n = 0
  for _ in assert(bpfiter.pagecache { fields = { "pages" } }) do n = n + 1 end
  local all, one = peak('{"pagecache", "--csv"}'), peak('{"pagecache", "--csv", "--limit", "1"}')
  row(("peak RSS streaming `bpfiter pagecache --csv` (%s records) vs `--limit 1`"):format(fmt_count(n)),
    ("%d KiB"):format(all or -1), ("%d KiB"):format(one or -1), "flat: < +8 MiB",
    all and one and all - one < 8192)
end

local function report()
  print("## bpfiter CLI and projection benchmark")
  print()
  for _, line in ipairs(env) do print("- " .. line) end
  print()
  common.print_table("| what | bpfiter | peer | ratio (peer / bpfiter) | goal | met? |",
    "|---|---:|---:|---:|---|---|", rows)
  print()
  for _, line in ipairs(notes) do print("- " .. line) end
end

common.run(function()
  env[#env + 1] = ("kernel %s, each figure the median of %d runs after %d warm-up, sides alternating; "
    .. "the machine is shared (2 CPUs, other jobs running): figures are noisy")
    :format((H.read_file("/proc/sys/kernel/osrelease") or "?"):match("%S+"), RUNS, WARMUP)
  bench_whole()
  local entries = common.command_output(bp("programs 2>&1"))
  local cached = {}
  for t in entries:gmatch("\n(%S+)%s+id ") do cached[#cached + 1] = t end
  env[#env + 1] = "program cache (private bpffs) after the warm-up holds: " .. table.concat(cached, ", ")
    .. " (the other targets keep walk state in maps and load their own program in every process)"
  bench_projection()
  bench_output()
end, cleanup, report)
