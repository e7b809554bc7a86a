--- Real-host scale (issue 17): 10,000 cgroups in every walk order and
-- through the cpu_wait collector, sockets of 100 network namespaces, and
-- 100,000 threads, against the alternatives a user has.
--
--   LUA_PATH=... LUA_CPATH=... BPFITER_BUILD=... lua5.4 bench/scale.lua
--   (after make all fixtures; needs root)
--
-- Fixtures, removed after even on failure: 10,000 cgroups (100 groups of
-- 100) under a uniquely named parent of the cgroup v2 root; 100 network
-- namespaces (ip netns add) with 20 sockets each; threads in
-- processes of 2,000 each (spec/fixture.c threads), 10,000 then 100,000,
-- pid_max and threads-max raised for them and restored after. Every
-- figure is the median of RUNS runs after WARMUP, sides alternating.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"
local common = require "common"
local fmt_time, fmt_count = common.fmt_time, common.fmt_count

local RUNS, WARMUP = 5, 1
local GROUPS, PER_GROUP = 100, 100
local THREADS_PER_PROC = 2000
local SMALL, LARGE = 10000, 100000

local cleanup, rows = {}, {}
local now = common.build_clock(cleanup).now

local function row(what, mine, alt, ratio, target, met)
  rows[#rows + 1] = { what, mine, alt or "—", ratio or "—", target or "—", met or "—" }
end

local function yes(ok) return ok and "yes" or "**NO**" end

local function count(step, it, _, closing)
  local _ <close> = closing
  local n = 0
  for _ in step, it do n = n + 1 end
  return n
end

local function cgroup2_mount()
  for line in H.read_file("/proc/self/mountinfo"):gmatch("[^\n]+") do
    local root, mnt, fstype = line:match("^%S+ %S+ %S+ (%S+) (%S+) .* %- (%S+) ")
    if fstype == "cgroup2" and root == "/" then return mnt end
  end
end

-- ---- cgroups ----

-- Cgroupfs walked as a directory tree, as a script (or systemd-cgls) would
-- list it: the alternative for "every cgroup".
local function dir_walk(dir)
  local n = 1
  for e in lfs.dir(dir) do
    if e ~= "." and e ~= ".." and lfs.symlinkattributes(dir .. "/" .. e, "mode") == "directory" then
      n = n + dir_walk(dir .. "/" .. e)
    end
  end
  return n
end

local function bench_cgroups()
  local v2 = assert(cgroup2_mount(), "no cgroup2 mount")
  local base = ("%s/bpfiter-bench-scale-%d"):format(v2,
    tonumber(H.read_file("/proc/self/stat"):match("^%d+")))
  local made = {}
  cleanup[#cleanup + 1] = function()
    for i = #made, 1, -1 do lfs.rmdir(made[i]) end
  end
  assert(lfs.mkdir(base))
  made[1] = base
  local leaf
  for g = 1, GROUPS do
    local group = ("%s/g%03d"):format(base, g)
    assert(lfs.mkdir(group))
    made[#made + 1] = group
    for c = 1, PER_GROUP do
      leaf = ("%s/c%03d"):format(group, c)
      assert(lfs.mkdir(leaf))
      made[#made + 1] = leaf
    end
  end
  local total = #made

  local medians, results = common.compare(now, RUNS, WARMUP, {
    function() return count(bpfiter.cgroups { root = base }) end,
    function() return count(bpfiter.cgroups { root = base, order = "post" }) end,
    function()
      -- the subtree-by-subtree design: each walk under the kernel's one
      -- buffer (the parent alone, then each group)
      local n = count(bpfiter.cgroups { root = base, order = "self" })
      for g = 1, GROUPS do n = n + count(bpfiter.cgroups { root = ("%s/g%03d"):format(base, g) }) end
      return n
    end,
    function() return dir_walk(base) end,
  })
  local pre, post, subtrees, dirs = medians[1], medians[2], medians[3], medians[4]
  row(("cgroups, %s in pre-order (one walk) vs a directory walk of cgroupfs"):format(fmt_count(total)),
    fmt_time(pre), fmt_time(dirs), ("%.1f×"):format(dirs / pre),
    "complete", yes(results[1] == total and results[4] == total))
  row(("cgroups, %s in post-order"):format(fmt_count(total)), fmt_time(post), nil, nil,
    "complete", yes(results[2] == total))
  row(("cgroups, the same walked subtree by subtree (%d walks)"):format(GROUPS + 1),
    fmt_time(subtrees), nil, ("%.1f× the one walk"):format(subtrees / pre), "complete",
    yes(results[3] == total))
  local up = count(bpfiter.cgroups { root = leaf, order = "up" })
  local self = count(bpfiter.cgroups { root = leaf, order = "self" })
  row("cgroups, up and self from a leaf of that tree", ("%d, %d records"):format(up, self),
    nil, nil, "4, 1", yes(up == 4 and self == 1))
  local t0 = now()
  local cw = assert(bpfiter.cgroup_cpu_wait { root = base, duration = 0.1 })
  row(("cgroup_cpu_wait over the %s (0.1 s collecting)"):format(fmt_count(total)),
    fmt_time(now() - t0), nil, nil, "every cgroup", yes(#cw == total))
end

-- ---- threads ----

local function sysctl(name) return tonumber(H.read_file("/proc/sys/kernel/" .. name)) end

local function set_sysctl(name, value)
  local old = sysctl(name)
  if old >= value then return end
  H.write_file("/proc/sys/kernel/" .. name, value)
  cleanup[#cleanup + 1] = function() H.write_file("/proc/sys/kernel/" .. name, old) end
end

local function vm_rss_kib()
  return tonumber(H.read_file("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

local function bench_threads()
  local running = tonumber(H.read_file("/proc/loadavg"):match("%d+/(%d+)"))
  set_sysctl("pid_max", math.max(running + LARGE + 20000, 131072))
  set_sysctl("threads-max", running + LARGE + 20000)
  local fxs = {}
  cleanup[#cleanup + 1] = function() for _, fx in ipairs(fxs) do fx.stop() end end
  local function grow_to(n)
    while #fxs * THREADS_PER_PROC < n do
      fxs[#fxs + 1] = H.fixture("threads", THREADS_PER_PROC, "bscale" .. #fxs)
    end
  end
  local function mine()
    local set, want = {}, 0
    for _, fx in ipairs(fxs) do
      set[fx.pid] = true
      want = want + THREADS_PER_PROC + 1
    end
    return set, want
  end
  -- A streamed walk: records counted, none kept.
  local function walk()
    local set, n, all = mine(), 0, 0
    for t in bpfiter.tasks() do
      all = all + 1
      if set[t.tgid] then n = n + 1 end
    end
    return n, all
  end

  local timing = {}
  for _, size in ipairs { SMALL, LARGE } do
    grow_to(size)
    local _, want = mine()
    local medians, results = common.compare(now, RUNS, WARMUP, { walk })
    local all = select(2, walk())
    timing[size] = { ns = medians[1], all = all }
    collectgarbage("collect")
    local rss0 = vm_rss_kib()
    walk()
    local rss1 = vm_rss_kib()
    timing[size].rss = { rss0, rss1 }
    row(("tasks, streamed walk with %s fixture threads (%s records)"):format(fmt_count(size),
      fmt_count(all)), fmt_time(medians[1]), nil, nil, "all listed", yes(results[1] == want))
  end
  local ratio = timing[LARGE].ns / timing[SMALL].ns
  local per = (timing[LARGE].ns / timing[LARGE].all) / (timing[SMALL].ns / timing[SMALL].all)
  row("tasks, time 10k → 100k threads", ("%.1f×"):format(ratio), nil,
    ("%.2f× per record"):format(per), "≤ 11×", yes(ratio <= 11))
  local r = timing[LARGE].rss
  row(("tasks, RSS around one streamed walk of %s records"):format(fmt_count(timing[LARGE].all)),
    ("%+d KiB (%d → %d KiB)"):format(r[2] - r[1], r[1], r[2]), nil, nil, "flat: < 256 KiB",
    yes(r[2] - r[1] < 256))
end

-- ---- network namespaces ----

local NAMESPACES, PER_KIND = 100, 5 -- 20 sockets in each: 5 tcp, udp, unix, netlink

-- The kernel's tcp iterator scans the whole established hash for each
-- namespace; a namespace created while net.ipv4.tcp_child_ehash_entries is
-- set gets a hash of its own (and the walk of it a small scan). `ehash`:
-- that sysctl while the namespaces are created (0: the host default).
local function bench_netns(ehash)
  local pid = H.read_file("/proc/self/stat"):match("^%d+")
  local names, files = {}, {}
  local function remove()
    for _, name in ipairs(names) do os.execute("ip netns del " .. name .. " 2>/dev/null") end
    names = {}
  end
  cleanup[#cleanup + 1] = remove
  local sysctl_path = "/proc/sys/net/ipv4/tcp_child_ehash_entries"
  local old = tonumber(H.read_file(sysctl_path))
  if ehash ~= old then
    H.write_file(sysctl_path, ehash)
    cleanup[#cleanup + 1] = function() H.write_file(sysctl_path, old) end
  end
  for i = 1, NAMESPACES do
    names[i] = ("bpfiter-bench-%s-%d"):format(pid, i)
    assert(os.execute("ip netns add " .. names[i]), "ip netns add")
    files[i] = "/run/netns/" .. names[i]
  end
  H.write_file(sysctl_path, old)
  local fx = H.spawn("netns_sockets", PER_KIND, table.concat(files, " "))
  local want = {}
  for _, f in ipairs(files) do want[lfs.attributes(f, "ino")] = true end
  -- Sockets of the fixture's namespaces a walk of all namespaces finds.
  local function all_four()
    local n = 0
    for _, kind in ipairs { "tcp", "udp", "unix", "netlink" } do
      for r in bpfiter[kind] { netns = "all" } do
        if want[r.netns] and (kind ~= "netlink" or r.portid ~= 0) then n = n + 1 end
      end
    end
    return n
  end
  local function tcp_only()
    local n = 0
    for r in bpfiter.tcp { netns = "all" } do if want[r.netns] then n = n + 1 end end
    return n
  end
  local medians, results = common.compare(now, RUNS, WARMUP, {
    all_four, tcp_only, function() return #require("bpfiter.netns").all() end })
  fx.stop()
  remove()
  local all = results[3]
  local config = ehash == 0 and "host default: one TCP hash of 262,144 buckets for all"
    or ("tcp_child_ehash_entries = %d: a TCP hash per namespace"):format(ehash)
  row(("sockets of %d namespaces × 20, netns = \"all\" (tcp, udp, unix, netlink: 4 walks of %d " ..
    "namespaces each; %s)"):format(NAMESPACES, all, config), fmt_time(medians[1]), "439 ms " ..
    "(published BPF-iterator snapshot, 100 containers)", ("%.1f×"):format(439e6 / medians[1]),
    "≤ 40 ms, all listed", yes(medians[1] <= 40e6 and results[1] == NAMESPACES * PER_KIND * 4))
  row(("tcp alone, netns = \"all\" (%s)"):format(config), fmt_time(medians[2]),
    nil, nil, "≤ 40 ms, all listed", yes(medians[2] <= 40e6 and results[2] == NAMESPACES * PER_KIND))
  if ehash == 0 then
    row("finding the namespaces (/run/netns, /proc/*/ns/net)", fmt_time(medians[3]), nil, nil, nil, nil)
  end
end

common.run(function()
  bench_cgroups()
  bench_netns(0)
  bench_netns(256)
  bench_threads()
end, cleanup, function()
  common.print_section("Scale (bench/scale.lua): cgroups, network namespaces, threads", "| what | bpfiter | alternative | ratio | target | met? |",
    "|---|---:|---:|---:|---|---|", rows)
end)
