--- vmas two ways (issue 13, item 4): the task_vma iterator (what `vmas`
-- uses, bpf/targets/vma.bpf.c: one program call and one maple-tree lookup
-- per mapping) against the open-coded walk (bpf/targets/vma_open.bpf.c: one
-- call per process of the task iterator, its mappings through the vma
-- iterator kfuncs into a ring buffer), on a process with 40,000 mappings
-- and on every process of the machine.
--
--   make bench          (this is one of its scripts; it needs the core
--                        built with BPFITER_EXPERIMENTS: build/exp/)
--
-- CPU time, not wall time (the machine is shared): per walk, the best of
-- RUNS walks in this process after a warm-up walk, the two alternating; per fresh
-- process, the best of RUNS `lua5.4` processes walking to their first
-- record (vmas from a warm program cache; the open-coded program has a
-- ring buffer, so it is never cached). Before any timing, both walks must
-- give the same records as /proc/PID/maps, for the fixture and for every
-- process whose maps did not change while they were read.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local H = require "helper"
local common = require "common"
local bpfiter = require "bpfiter"
local vma_walks = require "vma_walks"

local RUNS = 15
local WALKS = { "vmas", "vmas_open" }
local cleanup, rows, env, notes = {}, {}, {}, {}
local clock = common.build_clock(cleanup)
local fmt_count, q = common.fmt_count, common.shell_quote
local LUA = common.interpreter()

local function ms(seconds) return ("%.2f ms"):format(seconds * 1e3) end

-- ---- CPU per walk, in this process ----

local function walk_count(walk, opts)
  local n = 0
  for _ in assert(bpfiter[walk](opts)) do n = n + 1 end
  return n
end

-- Best CPU seconds of one walk of each, the walks alternating (the load
-- of the machine changes), and their records.
local function cpu_per_walk(opts)
  local best, n = {}, {}
  for i, walk in ipairs(WALKS) do
    best[i], n[i] = math.huge, walk_count(walk, opts)
  end
  for _ = 1, RUNS do
    for i, walk in ipairs(WALKS) do
      collectgarbage("collect")
      local u, s = clock.cpu()
      walk_count(walk, opts)
      local u1, s1 = clock.cpu()
      best[i] = math.min(best[i], u1 - u + s1 - s)
    end
  end
  return best, n
end

local function per_walk_rows(what, opts)
  for _, fields in ipairs { false, { "start" } } do
    local best, n = cpu_per_walk { pid = opts.pid, fields = fields or nil }
    rows[#rows + 1] = {
      ("%s, %s (%s / %s records)"):format(what, fields and "fields = {start}" or "all fields",
        fmt_count(n[1]), fmt_count(n[2])),
      ms(best[1]), ms(best[2]),
      ("%.2f / %.2f"):format(n[1] / (best[1] * 1e6), n[2] / (best[2] * 1e6)),
      ("%.2f×"):format(best[1] / best[2]),
    }
  end
end

-- ---- CPU of a fresh process, to its first record ----

local function fresh_process_row(pid, cache)
  local function best_of(cmd)
    local best = math.huge
    for _ = 0, RUNS do	-- the first run warms the cache
      local u, s = clock.cpu("children")
      assert(os.execute(cmd))
      local u1, s1 = clock.cpu("children")
      best = math.min(best, u1 - u + s1 - s)
    end
    return best
  end
  local empty = best_of("exec " .. LUA .. " -e ''")
  local res = {}
  for i, walk in ipairs(WALKS) do
    local script = ('local s, i = require("bpfiter")[%q] { pid = %d } assert(s(i))'):format(walk, pid)
    res[i] = best_of(("exec env BPFITER_PROGRAM_CACHE=%s %s -e %s"):format(q(cache), LUA, q(script))) - empty
  end
  rows[#rows + 1] = { "fresh `lua5.4`: `require` → first record, minus an empty `lua5.4 -e ''`"
    .. " (vmas from a warm program cache; the open-coded walk is never cached)",
    ms(res[1]), ms(res[2]), "—", ("%.2f×"):format(res[1] / res[2]) }
end

local function report()
  print("## vmas: the task_vma iterator against the open-coded vma iterator walk")
  print()
  for _, l in ipairs(env) do print("- " .. l) end
  print()
  common.print_table("| walk | task_vma (vmas) CPU | open-coded CPU | records/µs (task_vma / open-coded) | speed-up |",
    "|---|---:|---:|---:|---:|", rows)
  print()
  for _, l in ipairs(notes) do print("- " .. l) end
end

common.run(function()
  if not bpfiter.vmas_open then
    error("bpfiter.vmas_open is missing: run with the core of build/exp (make bench)")
  end
  local step, it = bpfiter.vmas_open { pid = 1 }
  if not step then
    notes[#notes + 1] = "skipped: " .. tostring(it)
    return
  end
  it:close()
  local dir, fs = H.private_bpffs()
  cleanup[#cleanup + 1] = function() H.drop_private_bpffs(dir, fs) end
  local cache = fs .. "/programs"
  per_walk_rows("every process of the machine, before the fixture starts (`{}`)", {})
  local maps = H.fixture("maps", 20000, "$DIR")
  cleanup[#cleanup + 1] = maps.stop
  env[#env + 1] = ("kernel %s; CPU time (user + sys), best of %d walks after a warm-up, the two"
    .. " alternating; the machine is shared (2 CPUs, other jobs running): every process is whatever"
    .. " runs at that moment")
    :format((H.read_file("/proc/sys/kernel/osrelease") or "?"):match("%S+"), RUNS)

  assert(vma_walks.check_same(bpfiter, WALKS, { pid = maps.pid }) == 1, "the fixture's maps changed")
  local same, changed = vma_walks.check_same(bpfiter, WALKS, {})
  notes[#notes + 1] = ("records checked before timing: the fixture's, and those of %d processes"
    .. " (all whose /proc/PID/maps did not change while read; %d did), identical in both walks"
    .. " and to /proc/PID/maps"):format(same, changed)

  per_walk_rows("one process with 40,000 mappings (`{pid = P}`)", { pid = maps.pid })
  per_walk_rows("every process, the fixture's 40,000 mappings among them (`{}`)", {})
  fresh_process_row(maps.pid, cache)
  maps.stop()
end, cleanup, report)
