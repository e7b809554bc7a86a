--- bpfiter's page-cache walks against what users run today, in one run:
--
--   1. a system-wide report of cached files (top 20 by cached pages):
--      bpfiter.cached_files{} vs fincore (util-linux) over every regular
--      file of the same filesystems, found with find(1), and vs vmtouch
--      crawling the same filesystems;
--   2. the page map of one 4 GiB cached file: page_runs{path=} and a
--      pagecache{path=} loop vs `fincore FILE` (totals only) and
--      `vmtouch -v FILE` (a page map), once with large folios (written with
--      1 MiB writes) and once with order-0 folios (written 4 KiB at a time);
--   3. where bpfiter's time goes: the kernel walk alone (min_pages= / ino=
--      that nothing matches), the C core's records, the Lua layer.
--
--   LUA_PATH=... LUA_CPATH=... BPFITER_BUILD=... lua5.4 bench/pagecache.lua
--   (needs root; fincore from util-linux, vmtouch; /usr/bin/time for peak RSS)
--
-- The filesystems are those /proc/self/mounts lists as a disk filesystem on
-- a /dev/ device or as a tmpfs named "tmpfs", one mount per device
-- (BENCH_PAGECACHE_ROOTS="/ /dev/shm" overrides). fincore and vmtouch open,
-- mmap and mincore() every file: their cost grows with the number of files,
-- bpfiter's with the number of inodes in the kernel's inode cache (every one
-- is visited) plus the cached pages' xarray entries.
--
-- Every figure is the median of RUNS runs (BENCH_RUNS, default 3) after one
-- unmeasured warm-up round, which also warms the dentry and inode caches for
-- find, fincore and vmtouch; the sides alternate run by run. Wall clock,
-- CLOCK_MONOTONIC (bench/clock.c). Peak RSS comes from the warm-up round of
-- each command run under `/usr/bin/time -f %M` (for a pipeline: its largest
-- single process). The 4 GiB file is /tmp/bpfiter-bench-4g
-- (BENCH_PAGECACHE_MIB sets the size), removed at the end, also on error.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local bpfiter = require "bpfiter"
local pagecache = require "bpfiter.pagecache"
local core = require "bpfiter.core"
local H = require "helper"
local common = require "common"
local shell_quote, command_output = common.shell_quote, common.command_output

local RUNS, WARMUP = tonumber(os.getenv("BENCH_RUNS")) or 3, 1
local TOP = 20
local BIG = "/tmp/bpfiter-bench-4g"
local BIG_MIB = tonumber(os.getenv("BENCH_PAGECACHE_MIB")) or 4096
local PAGE = 4096
local NOTHING = 1 << 50 -- a min_pages / ino nothing has

local LUA = common.interpreter()

local cleanup = {} -- run at exit, last registered first
local now = common.build_clock(cleanup).now

local function exists(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end
local TIME
do
  local f = io.open("/usr/bin/time")
  if f then f:close(); TIME = "/usr/bin/time" end
end

-- ---- reporting ----

local fmt_time, fmt_count = common.fmt_time, common.fmt_count

local function fmt_kib(kib)
  if not kib then return "—" end
  if kib >= 10240 then return ("%.0f MiB"):format(kib / 1024) end
  return ("%d KiB"):format(kib)
end

local rows, procs, profile, env, notes = {}, {}, {}, {}, {}

--- ratio = baseline / bpfiter; met when ≥ target.
local function ratio_row(what, bp_ns, alt_ns, target)
  local ratio = alt_ns / bp_ns
  rows[#rows + 1] = { what, fmt_time(bp_ns), fmt_time(alt_ns), ("%.1f×"):format(ratio),
    target and ("≥ %g×"):format(target) or "—",
    target and (ratio >= target and "yes" or "**NO**") or "—" }
end

local function print_report()
  print("## bpfiter page cache vs fincore and vmtouch")
  print()
  for _, line in ipairs(env) do print("- " .. line) end
  print()
  common.print_table("| what | bpfiter | baseline | ratio (baseline / bpfiter) | target | met? |",
    "|---|---:|---:|---:|---|---|", rows)
  common.print_section("Whole processes (wall time as the parent sees it, peak RSS of the largest process):",
    "| command | wall (median) | peak RSS |", "|---|---:|---:|", procs)
  common.print_section("Where bpfiter's time goes (in-process, median):",
    "| step | time | records |", "|---|---:|---:|", profile)
  print()
  for _, line in ipairs(notes) do print("- " .. line) end
end

-- ---- measuring ----

local function compare(fns)
  return common.compare(now, RUNS, WARMUP, fns)
end

--- A function running `cmd` through sh, returning its output. Its first
-- call (the warm-up) runs under /usr/bin/time, its peak RSS going to
-- rss[label].
local rss = {}
local rss_file
local function process(label, cmd)
  local calls = 0
  return function()
    calls = calls + 1
    if calls == 1 and TIME then
      local out = command_output(("%s -f %%M -o %s sh -c %s"):format(TIME, rss_file, shell_quote(cmd)))
      rss[label] = tonumber((H.read_file(rss_file) or ""):match("(%d+)%s*$"))
      return out
    end
    return command_output(cmd)
  end
end

local function proc_row(label, cmd, ns)
  procs[#procs + 1] = { label .. ": `" .. cmd:gsub("|", "\\|") .. "`", fmt_time(ns), fmt_kib(rss[label]) }
end

local function inode_nr()
  return tonumber((H.read_file("/proc/sys/fs/inode-nr") or ""):match("%d+")) or 0
end

-- ---- the filesystems ----

local function unescape(s)
  return (s:gsub("\\(%d%d%d)", function(o) return string.char(tonumber(o, 8)) end))
end

local DISK = { ext2 = true, ext3 = true, ext4 = true, xfs = true, btrfs = true, f2fs = true }

--- {path =, dev =, fstype =} for each filesystem the baselines crawl.
local function roots()
  local list, seen = {}, {}
  local function add(path, fstype)
    local id = core.file_identity(path)
    if id and id.is_dir and not seen[id.dev] then
      seen[id.dev] = true
      list[#list + 1] = { path = path, dev = id.dev, fstype = fstype or "?" }
    end
  end
  local override = os.getenv("BENCH_PAGECACHE_ROOTS")
  if override then
    for p in override:gmatch("%S+") do add(p) end
    return list
  end
  local mounts = {}
  for line in io.lines("/proc/self/mounts") do
    local source, target, fstype = line:match("^(%S+) (%S+) (%S+)")
    target = unescape(target)
    if (DISK[fstype] and source:match("^/dev/")) or (fstype == "tmpfs" and source == "tmpfs") then
      mounts[#mounts + 1] = { target = target, fstype = fstype }
    end
  end
  table.sort(mounts, function(a, b) return #a.target < #b.target end) -- "/" first
  for _, m in ipairs(mounts) do add(m.target, m.fstype) end
  return list
end

-- ---- 1. the system-wide report ----

local function top_of(out, n)
  table.sort(out, function(a, b) return a.cached > b.cached end)
  local top = {}
  for i = 1, math.min(TOP, n) do top[i] = out[i] end
  return { top = top, n = n, all = out }
end

local function bp_report()
  return top_of(common.walks(bpfiter.cached_files, { {} }))
end

local function bp_report_on(devs)
  local opts_list = {}
  for i, dev in ipairs(devs) do opts_list[i] = { dev = dev } end
  return function() return top_of(common.walks(bpfiter.cached_files, opts_list)) end
end

local BP_REPORT_PROCESS = ('local t, n = {}, 0 for r in assert(require("bpfiter").cached_files{}) do '
  .. 'n = n + 1 t[n] = r end table.sort(t, function(a, b) return a.cached > b.cached end) '
  .. 'for i = 1, math.min(%d, n) do print(t[i].cached * %d, t[i].path or t[i].relpath) end'):format(TOP, PAGE)

local function bench_report()
  local fs = roots()
  local devs, paths, names = {}, {}, {}
  for i, r in ipairs(fs) do
    devs[i], paths[i] = r.dev, shell_quote(r.path)
    names[i] = ("%s (%s)"):format(r.path, r.fstype)
  end
  local finds = {}
  for i, p in ipairs(paths) do finds[i] = "find " .. p .. " -xdev -type f -print0" end
  local find_all = "{ " .. table.concat(finds, "; ") .. "; } 2>/dev/null"
  local fincore_cmd = find_all .. " | xargs -0 -r fincore -b -n -o RES,FILE 2>/dev/null | sort -nr | head -n " .. TOP
  local vm, vmv = {}, {}
  for i, p in ipairs(paths) do
    vm[i] = "vmtouch -F " .. p .. " 2>/dev/null"
    vmv[i] = "vmtouch -v -F " .. p .. " >/dev/null 2>&1"
  end
  local vmtouch_cmd, vmtouch_v_cmd = table.concat(vm, "; "), table.concat(vmv, "; ")
  local bp_cmd = LUA .. " -e " .. shell_quote(BP_REPORT_PROCESS)

  local files = tonumber(command_output(find_all .. " | tr -dc '\\0' | wc -c"):match("%d+"))
  local inodes_before = inode_nr()

  local sides = {
    bp_report,
    bp_report_on(devs),
    process("bpfiter report process", bp_cmd),
    process("fincore report", fincore_cmd),
    process("vmtouch totals", vmtouch_cmd),
    process("vmtouch -v", vmtouch_v_cmd),
  }
  local t, res = compare(sides)
  local inodes_after = inode_nr()

  local all, same = res[1], res[2]
  local same_pages = 0
  for _, r in ipairs(same.all) do same_pages = same_pages + r.cached end
  local all_pages = 0
  for _, r in ipairs(all.all) do all_pages = all_pages + r.cached end

  env[#env + 1] = ("filesystems crawled by the baselines: %s; %s regular files found by find"):format(
    table.concat(names, ", "), fmt_count(files))
  env[#env + 1] = ("inodes in the kernel's inode cache (/proc/sys/fs/inode-nr, every one visited by "
    .. "bpfiter's walk): %s before the report runs, %s after"):format(fmt_count(inodes_before), fmt_count(inodes_after))
  env[#env + 1] = ("cached_files{}: %s inodes with cached pages on all superblocks, %s pages (%.0f MiB); on the "
    .. "crawled filesystems: %s inodes, %s pages"):format(fmt_count(all.n), fmt_count(all_pages),
    all_pages * PAGE / 2 ^ 20, fmt_count(same.n), fmt_count(same_pages))
  do
    local vm_pages = 0
    for resident in res[5]:gmatch("Resident Pages:%s*(%d+)/") do vm_pages = vm_pages + tonumber(resident) end
    env[#env + 1] = ("cross-check: vmtouch counts %s resident pages on the same filesystems (bpfiter %s; "
      .. "vmtouch misses files no path reaches, e.g. deleted but open, and pages that come and go between the "
      .. "two: the counts are taken at different moments)"):format(fmt_count(vm_pages), fmt_count(same_pages))
  end
  -- The two top-20 lists, by path.
  local mine = {}
  for _, r in ipairs(same.top) do if r.path then mine[r.path] = true end end
  local common_paths, listed = 0, 0
  for line in res[4]:gmatch("[^\n]+") do
    local path = line:match("^%s*%d+%s+(.*)$")
    if path then
      listed = listed + 1
      if mine[path] then common_paths = common_paths + 1 end
    end
  end
  env[#env + 1] = ("top %d: %d of fincore's %d paths are in bpfiter's top %d for the same filesystems "
    .. "(fincore lists a hard-linked file once per name)"):format(TOP, common_paths, listed, TOP)

  ratio_row(("cached-files report, top %d (all %s records collected and sorted) vs find + fincore "
    .. "over every file"):format(TOP, fmt_count(all.n)), t[1], t[4], 20)
  ratio_row("same, bpfiter restricted to the crawled filesystems (one `dev=` walk each) vs find + fincore",
    t[2], t[4], 20)
  ratio_row("same, both as whole processes (`lua5.4 -e` require + BPF load + walk + print)", t[3], t[4], 20)
  do
    ratio_row("report vs `vmtouch -F ROOT` per filesystem (totals only: no per-file list)", t[1], t[5], nil)
    ratio_row("report vs `vmtouch -v -F ROOT` per filesystem (per-file page maps, not sorted)", t[1], t[6], nil)
  end
  proc_row("bpfiter report process", bp_cmd, t[3])
  proc_row("fincore report", fincore_cmd, t[4])
  proc_row("vmtouch totals", vmtouch_cmd, t[5])
  proc_row("vmtouch -v", vmtouch_v_cmd, t[6])
end

-- ---- 3 (for 1). where the report's time goes ----

local function count(step, it, _, closing)
  assert(step, it)
  local _ <close> = closing
  local n = 0
  for _ in step, it do n = n + 1 end
  return n
end

local function profile_report()
  local t, res = compare {
    function() return count(core.cached_files { min_pages = NOTHING }) end,
    function() return count(core.cached_files {}) end,
    function() return count(bpfiter.cached_files {}) end,
    function() return bp_report().n end,
  }
  profile[#profile + 1] = { "kernel: walk every inode of every superblock, no record "
    .. "(`core.cached_files{min_pages = 2^50}`)", fmt_time(t[1]), fmt_count(res[1]) }
  profile[#profile + 1] = { "+ count each cached inode's xarray entries, build its path, C decode into "
    .. "Lua tables (`core.cached_files{}`)", fmt_time(t[2]), fmt_count(res[2]) }
  profile[#profile + 1] = { "+ Lua layer: path through mountinfo (`bpfiter.cached_files{}`)",
    fmt_time(t[3]), fmt_count(res[3]) }
  profile[#profile + 1] = { ("+ keep all records, sort, top %d (the report)"):format(TOP), fmt_time(t[4]),
    fmt_count(res[4]) }
end

-- ---- 2. the page map of one 4 GiB file ----

local function remove_big() os.remove(BIG) end

local function fincore_bytes(path)
  return tonumber(command_output("fincore -b -n -o RES " .. shell_quote(path) .. " 2>/dev/null"):match("%d+"))
end

--- Writes BIG with writes of `bs`, then reads it all back; returns the
-- seconds it took and whether fincore sees it all cached.
local function make_big(bs, count_)
  remove_big()
  local t0 = now()
  assert(os.execute(("dd if=/dev/zero of=%s bs=%s count=%d conv=fsync status=none"):format(BIG, bs, count_)),
    "dd failed")
  local size = BIG_MIB * 2 ^ 20
  for _ = 1, 3 do
    assert(os.execute(("cat %s > /dev/null"):format(BIG)))
    if fincore_bytes(BIG) == size then break end
  end
  return (now() - t0) / 1e9, fincore_bytes(BIG) == size
end

local function bench_page_map(variant, bs, count_)
  local secs, all_cached = make_big(bs, count_)
  local root = core.file_identity(BIG).dev
  local pages, folios = 0, 0
  for p in assert(bpfiter.pagecache { path = BIG }) do
    pages, folios = pages + p.pages, folios + 1
  end
  local fincore_cmd = "fincore " .. BIG
  local vmtouch_cmd = "vmtouch -v " .. BIG
  local runs_cmd = LUA .. " -e " .. shell_quote(('local n = 0 for _, r in ipairs(assert(require("bpfiter.pagecache")'
    .. '.page_runs{path = %q})) do n = n + r.pages print(r.first, r.last, r.dirty, r.mapped, r.active) end '
    .. 'print("total", n)'):format(BIG))
  local label = ("%s, "):format(variant)
  -- Pages each bpfiter run saw: the walk is best effort, so check it.
  local seen = {}
  local function saw(p)
    seen.min, seen.max = math.min(seen.min or p, p), math.max(seen.max or p, p)
  end
  local runs_process = process(label .. "bpfiter page_runs process", runs_cmd)
  local t, res = compare {
    function()
      local runs, n = assert(pagecache.page_runs { path = BIG }), 0
      for _, r in ipairs(runs) do n = n + r.pages end
      saw(n)
      return #runs
    end,
    function() return count(bpfiter.pagecache { path = BIG }) end,
    function()
      local n = 0
      for r in assert(bpfiter.cached_files { path = BIG }) do n = n + r.cached end
      return n
    end,
    function()
      local out = runs_process()
      saw(tonumber(out:match("total%s+(%d+)")) or 0)
      return out
    end,
    process(label .. "fincore", fincore_cmd),
    process(label .. "vmtouch -v", vmtouch_cmd),
    function() return count(core.pagecache { dev = root, ino = NOTHING }) end,
    function() return count(core.pagecache { dev = root, ino = core.file_identity(BIG).ino }) end,
    function() return count(core.pagecache { file = BIG }) end,
  }
  env[#env + 1] = ("%s: %s written with `dd bs=%s conv=fsync` and read back (%.1f s), %s; %s pages in %s "
    .. "folios, %s runs; pages the page_runs sides saw, run by run: %s to %s; after the runs %s pages cached "
    .. "(cached_files), %s (fincore)"):format(variant, BIG, bs, secs,
    all_cached and "100% cached (fincore)" or "**not all cached** (fincore)", fmt_count(pages),
    fmt_count(folios), fmt_count(res[1]), fmt_count(seen.min), fmt_count(seen.max), fmt_count(res[3]), fmt_count((fincore_bytes(BIG) or 0) // PAGE))
  local what = ("%s file, %s:"):format(BIG_MIB % 1024 == 0 and (BIG_MIB // 1024) .. " GiB" or BIG_MIB .. " MiB",
    variant)
  ratio_row(what .. " `page_runs{path=}` vs `vmtouch -v FILE` (page map)", t[1], t[6], nil)
  ratio_row(what .. " `page_runs{path=}` vs `fincore FILE` (totals only)", t[1], t[5], nil)
  ratio_row(what .. (" `for p in pagecache{path=}` (%s records) vs `fincore FILE`"):format(fmt_count(res[2])),
    t[2], t[5], nil)
  ratio_row(what .. " `cached_files{path=}` (totals, like fincore) vs `fincore FILE`", t[3], t[5], nil)
  ratio_row(what .. " page_runs as a whole process vs `vmtouch -v FILE`", t[4], t[6], nil)
  proc_row(label .. "bpfiter page_runs process", runs_cmd, t[4])
  proc_row(label .. "fincore", fincore_cmd, t[5])
  proc_row(label .. "vmtouch -v", vmtouch_cmd, t[6])
  profile[#profile + 1] = { ("%s: kernel: the file's xarray, reached through the fd the walk holds, C decode "
    .. "(`core.pagecache{file=}`, what path= uses)"):format(variant), fmt_time(t[9]), fmt_count(res[9]) }
  profile[#profile + 1] = { ("%s: (dev=, ino= instead) kernel walk of the root filesystem's inode list, "
    .. "no record (`core.pagecache{dev=, ino=<none>}`)"):format(variant), fmt_time(t[7]), fmt_count(res[7]) }
  profile[#profile + 1] = { ("%s: (dev=, ino= instead) the list walk + the file's xarray, C decode "
    .. "(`core.pagecache{dev=, ino=}`)"):format(variant), fmt_time(t[8]), fmt_count(res[8]) }
  profile[#profile + 1] = { ("%s: + Lua layer (`bpfiter.pagecache{path=}` loop)"):format(variant),
    fmt_time(t[2]), fmt_count(res[2]) }
  profile[#profile + 1] = { ("%s: runs instead of folios (`page_runs{path=}`)"):format(variant),
    fmt_time(t[1]), fmt_count(res[1]) }
  remove_big()
end

-- ---- main ----

local function main()
  local dir = H.mktemp_dir()
  cleanup[#cleanup + 1] = function() H.rm_rf(dir) end
  rss_file = dir .. "/rss"
  for _, tool in ipairs { "fincore", "vmtouch", "find", "xargs", "dd" } do
    assert(exists(tool), tool .. " is not installed (fincore: util-linux; vmtouch: vmtouch)")
  end
  cleanup[#cleanup + 1] = remove_big

  local ncpu = 0
  for line in io.lines("/proc/cpuinfo") do if line:match("^processor") then ncpu = ncpu + 1 end end
  env[#env + 1] = ("kernel %s, %d CPUs, %s, bpfiter %s, %s; fincore: %s; vmtouch: %s"):format(
    (H.read_file("/proc/sys/kernel/osrelease") or "?"):match("%S+"), ncpu, _VERSION, tostring(bpfiter.version),
    (H.read_file("/proc/meminfo") or ""):match("MemTotal:%s*(%d+ kB)") or "?",
    command_output("fincore --version 2>&1"):match("[%d.]+") or "?",
    command_output("vmtouch 2>&1"):match("vmtouch v([%d.]+)") or "not installed")
  env[#env + 1] = ("each figure: median of %d runs after %d warm-up round; the sides alternate run by run; "
    .. "peak RSS from the warm-up run under %s"):format(RUNS, WARMUP, TIME and "`/usr/bin/time -f %M`"
    or "(not measured: /usr/bin/time is missing)")

  bench_report()
  profile_report()
  bench_page_map("large folios (1 MiB writes)", "1M", BIG_MIB)
  bench_page_map("order-0 folios (4 KiB writes)", "4k", BIG_MIB * 256)

  notes[#notes + 1] = "fincore and vmtouch need a list of files: find (or vmtouch's own crawl) walks the "
    .. "directories, then each file is opened, mmapped and mincore()d. bpfiter walks the kernel's superblock and "
    .. "inode lists instead, so it also sees deleted-but-open files, memfd/shm and filesystems mounted elsewhere."
  notes[#notes + 1] = "The warm-up round of find, fincore and vmtouch fills the inode cache with every file of "
    .. "the crawled filesystems, which makes bpfiter's walk longer (it visits every cached inode)."
  notes[#notes + 1] = "`path=` on a regular file: the walk holds the file open (O_PATH) and the program "
    .. "reaches its inode through that fd, so a one-file query costs the file's xarray only; with `dev=`/`ino=` "
    .. "the program walks the filesystem's inode list to find it, about as long as that list (profile rows)."
end

common.run(main, cleanup, print_report)
