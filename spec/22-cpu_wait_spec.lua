-- Run-queue wait per cgroup (bpfiter.cpu_wait, bpfiter.cgroup_cpu_wait)
-- against a workload this spec makes: two v2 cgroups, "busy" with more
-- spinning threads than there are CPUs, all pinned to CPU 0, and "idle"
-- with one thread napping 20 ms at a time on CPU 1. The scheduler's own
-- per-thread accounting (/proc/PID/task/TID/schedstat: run_delay, and
-- pcount = times switched in) is the ground truth for counts and totals.
--
-- Both cgroups are frozen while the collector starts and while it is read,
-- so the collector and schedstat cover exactly the same scheduling events.
local bpfiter = require "bpfiter"
local stats = require "bpfiter.stats"
local lfs = require "lfs"
local H = require "helper"

local ENOENT, EINVAL = 2, 22
local PID = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
local NCPU = 0
for line in H.read_file("/proc/cpuinfo"):gmatch("[^\n]+") do
  if line:match("^processor%s*:") then NCPU = NCPU + 1 end
end

-- Sums over the process's threads: switch-ins (pcount) and run_delay (ns).
local function schedstat(pid)
  local pcount, delay = 0, 0
  for _, tid in ipairs(H.proc_tids(pid)) do
    local text = H.read_file(("/proc/%d/task/%d/schedstat"):format(pid, tid))
    local d, p = text:match("^%d+ (%d+) (%d+)")
    delay, pcount = delay + tonumber(d), pcount + tonumber(p)
  end
  return { pcount = pcount, delay = delay, threads = #H.proc_tids(pid) }
end

-- Our bpf_link fds (the collector's attached programs), from /proc/self/fd.
local function link_fds()
  local n = 0
  for e in lfs.dir("/proc/self/fd") do
    local a = e:match("^%d+$") and lfs.symlinkattributes("/proc/self/fd/" .. e)
    if a and a.target == "anon_inode:bpf_link" then n = n + 1 end
  end
  return n
end

local V2 = H.cgroup2_mount()

describe("cpu wait per cgroup", function()
  local rel = ("/bpfiter-spec-cpuwait-%d"):format(PID)
  local base = V2 .. rel
  local busy, idle, collector, recursive
  local rows, rec_rows, before, after = nil, nil, {}, {}
  local skip = NCPU < 2 and "needs 2 CPUs" or nil

  local function freeze(on)
    H.write_file(base .. "/cgroup.freeze", on and 1 or 0)
    for _ = 1, 1000 do
      if H.read_file(base .. "/cgroup.events"):match("frozen (%d)") == (on and "1" or "0") then return end
      H.sleep(0.01)
    end
    error("cgroup did not " .. (on and "freeze" or "thaw"))
  end

  setup(function()
    if skip then return end
    local origin = V2 .. H.read_file("/proc/self/cgroup"):match("\n?0::([^\n]*)")
    for _, d in ipairs { "", "/busy", "/idle" } do assert(lfs.mkdir(base .. d)) end
    busy = H.spawn("cpu_load", "spin", NCPU + 2, 0)
    idle = H.spawn("cpu_load", "nap", 1, 20, 1)
    busy.origin, idle.origin = origin, origin
    H.write_file(base .. "/busy/cgroup.procs", busy.pid)
    H.write_file(base .. "/idle/cgroup.procs", idle.pid)

    freeze(true)
    collector = assert(bpfiter.cpu_wait { root = base })
    recursive = assert(bpfiter.cpu_wait { root = base, recursive = true })
    before.busy, before.idle = schedstat(busy.pid), schedstat(idle.pid)
    freeze(false)
    collector:wait(1.5)
    freeze(true)
    rows = H.by(assert(collector:read()), "path")
    rec_rows = H.by(assert(recursive:read()), "path")
    after.busy, after.idle = schedstat(busy.pid), schedstat(idle.pid)
  end)

  teardown(function()
    if collector then collector:close() end
    if recursive then recursive:close() end
    if lfs.attributes(base) then pcall(freeze, false) end
    for _, fx in ipairs { busy, idle } do
      if fx then
        pcall(H.write_file, fx.origin .. "/cgroup.procs", fx.pid)
        fx.stop()
      end
    end
    for _, d in ipairs { "/busy", "/idle", "" } do lfs.rmdir(base .. d) end
  end)

  it("shows clearly larger waits where more threads than CPUs share one CPU", function()
    if skip then pending(skip) return end
    local b, i = rows[rel .. "/busy"], rows[rel .. "/idle"]
    assert.is_true(b.waits > 0 and i.waits > 0)
    -- NCPU + 2 spinners on one CPU each wait for the others' slices:
    -- milliseconds; the napping thread finds its CPU free: microseconds,
    -- typically 100 times less. The margins leave room for other load on
    -- the machine, which lengthens the idle cgroup's rarer long waits most.
    assert.is_true(b.wait_p50_ns > 1000000, "busy p50 " .. b.wait_p50_ns)
    assert.is_true(b.wait_p50_ns > 10 * i.wait_p50_ns, ("p50 %d vs %d"):format(b.wait_p50_ns, i.wait_p50_ns))
    assert.is_true(b.wait_mean_ns > 3 * i.wait_mean_ns, ("mean %d vs %d"):format(b.wait_mean_ns, i.wait_mean_ns))
  end)

  it("counts one wait per switch-in, as the scheduler's schedstat pcount does", function()
    if skip then pending(skip) return end
    -- Tolerance: one per thread (a switch-in whose wait began before the
    -- collector saw it) plus 2%.
    for _, name in ipairs { "busy", "idle" } do
      local want = after[name].pcount - before[name].pcount
      local got = rows[rel .. "/" .. name].waits
      local tolerance = after[name].threads + want * 0.02
      assert.is_true(math.abs(got - want) <= tolerance,
        ("%s: %d waits, schedstat says %d switch-ins (tolerance %.1f)"):format(name, got, want, tolerance))
    end
    assert.equal(0, rows[rel].waits) -- no task in base itself
    assert.is_nil(rows[rel].wait_mean_ns)
  end)

  it("adds up to the scheduler's run_delay for the busy cgroup, within 5%", function()
    if skip then pending(skip) return end
    local want = after.busy.delay - before.busy.delay
    local got = rows[rel .. "/busy"].wait_total_ns
    assert.is_true(want > 0)
    assert.is_true(math.abs(got - want) <= 0.05 * want, ("%d ns vs run_delay %d ns"):format(got, want))
  end)

  it("gives statistics consistent with their histogram", function()
    if skip then pending(skip) return end
    for _, name in ipairs { "busy", "idle" } do
      local r = rows[rel .. "/" .. name]
      local n, top = 0, 0
      for k, c in pairs(r.wait_hist) do
        n = n + c
        if k > top then top = k end
      end
      assert.equal(r.waits, n)
      assert.equal(r.wait_total_ns // r.waits, r.wait_mean_ns)
      assert.is_true(r.wait_p50_ns <= r.wait_p90_ns and r.wait_p90_ns <= r.wait_p99_ns and
        r.wait_p99_ns <= r.wait_max_ns)
      assert.is_true(r.wait_max_ns >= 2 ^ top and r.wait_max_ns < 2 ^ (top + 1))
      assert.is_true(r.wait_mean_ns <= r.wait_max_ns)
    end
  end)

  it("joins the samples with the cgroup walk: ids, paths and task counts", function()
    if skip then pending(skip) return end
    assert.equal(lfs.attributes(base .. "/busy", "ino"), rows[rel .. "/busy"].id)
    assert.equal(H.task_count(NCPU + 3), rows[rel .. "/busy"].nr_tasks)
    assert.equal(H.task_count(1), rows[rel .. "/idle"].nr_procs)
    assert.equal(3, #H.collect(bpfiter.cgroups { root = base }))
  end)

  it("adds the waits of descendants to each row with recursive = true", function()
    if skip then pending(skip) return end
    -- Both collectors saw the same events: the workload was frozen while
    -- they started and while they were read.
    local b, i, top = rec_rows[rel .. "/busy"], rec_rows[rel .. "/idle"], rec_rows[rel]
    assert.equal(rows[rel .. "/busy"].waits, b.waits)
    assert.equal(rows[rel .. "/idle"].waits, i.waits)
    assert.equal(b.waits + i.waits, top.waits)
    assert.equal(b.wait_total_ns + i.wait_total_ns, top.wait_total_ns)
    assert.equal(math.max(b.wait_max_ns, i.wait_max_ns), top.wait_max_ns)
  end)

  it("collects for a duration with cgroup_cpu_wait", function()
    if skip then pending(skip) return end
    freeze(false)
    local out = H.by(assert(bpfiter.cgroup_cpu_wait { root = base .. "/busy", order = "self",
      duration = 0.3 }), "path")
    assert.is_true(out[rel .. "/busy"].waits > 10)
    assert.is_nil(out[rel .. "/idle"]) -- order self: that cgroup only
  end)

  it("forgets what it collected on reset", function()
    if skip then pending(skip) return end
    freeze(true)
    collector:reset()
    local after_reset = H.by(assert(collector:read()), "path")
    assert.equal(0, after_reset[rel .. "/busy"].waits)
    assert.same({}, after_reset[rel .. "/busy"].wait_hist)
  end)
end)

describe("cpu wait collectors", function()
  it("detach their programs on close, at the end of a <close> block and when collected", function()
    local base = link_fds()
    local c = assert(bpfiter.cpu_wait())
    assert.equal(base + 3, link_fds())
    assert.matches("^bpfiter.cpu_wait: collecting$", tostring(c))
    c:close()
    c:close() -- twice is fine
    assert.equal(base, link_fds())
    assert.matches("^bpfiter.cpu_wait: closed$", tostring(c))
    assert.has_error(function() c:snapshot() end, "bpfiter: cpu_wait: collector is closed")
    do
      local _ <close> = assert(bpfiter.cpu_wait())
      assert.equal(base + 3, link_fds())
    end
    assert.equal(base, link_fds())
    c = assert(bpfiter.cpu_wait())
    assert.equal(base + 3, link_fds())
    c = nil
    collectgarbage()
    collectgarbage()
    assert.equal(base, link_fds())
  end)

  it("estimates quantiles inside log2 buckets, never above the largest wait", function()
    local h = { count = 100, total_ns = 0, max_ns = 2 ^ 21 - 1, hist = { [10] = 50, [20] = 50 } }
    assert.equal(2048, stats.quantile(h, 0.5))      -- the top of [1024, 2048)
    assert.equal(1887436, stats.quantile(h, 0.9))   -- 2^20 + 2^20 * 40/50
    assert.equal(2076180, stats.quantile(h, 0.99))
    h.max_ns = 1900000
    assert.equal(1900000, stats.quantile(h, 0.99))
    assert.is_nil(stats.quantile({ count = 0, total_ns = 0, max_ns = 0, hist = {} }, 0.5))
  end)

  it("returns nil, message, errno for a v1 root or a missing one", function()
    local v1
    for line in H.read_file("/proc/self/mountinfo"):gmatch("[^\n]+") do
      local root, mnt, fstype = line:match("^%S+ %S+ %S+ (%S+) (%S+) .* %- (%S+) ")
      if fstype == "cgroup" and root == "/" then v1 = v1 or mnt end
    end
    if v1 then
      local c, msg, errno = bpfiter.cpu_wait { root = v1 }
      assert.is_nil(c)
      assert.matches("cgroup v1 hierarchy", msg)
      assert.equal(EINVAL, errno)
    end
    local c, msg, errno = bpfiter.cgroup_cpu_wait { root = V2 .. "/bpfiter-no-such-cgroup" }
    assert.is_nil(c)
    assert.matches("No such file or directory$", msg)
    assert.equal(ENOENT, errno)
  end)

  it("raises for options it does not take", function()
    assert.has_error(function() bpfiter.cpu_wait { duration = 1 } end)
    assert.has_error(function() bpfiter.cpu_wait { order = "sideways" } end)
    assert.has_error(function() bpfiter.cgroup_cpu_wait { duration = -1 } end)
    assert.has_error(function() bpfiter.cgroup_cpu_wait { recursive = "yes" } end)
    local ok, err = pcall(bpfiter.cpu_wait, { bogus = 1 })
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'cpu_wait' %(unknown option 'bogus' for cpu_wait%)", err)
  end)
end)
