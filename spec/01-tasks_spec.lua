-- bpfiter.tasks against processes and threads this spec spawns, field by
-- field with /proc/PID/task/TID/stat and /proc/PID/status.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

-- Machine facts from the system, not assumed: stat's times are in clock
-- ticks and rss in pages.
local function getconf(name)
  local p = assert(io.popen("getconf " .. name))
  local v = math.tointeger(tonumber(p:read("l")))
  p:close()
  return assert(v, "getconf " .. name)
end
local CLK_TCK, PAGE = getconf("CLK_TCK"), getconf("PAGESIZE")

local function own_pid()
  return tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
end

-- cgroup v2 id = inode of the cgroup's directory.
local function cgroup2_id(pid)
  local mnt = H.cgroup2_mount()
  local rel = H.read_file(("/proc/%d/cgroup"):format(pid)):match("\n?0::([^\n]*)")
  return lfs.attributes(mnt .. rel, "ino")
end

describe("tasks", function()
  local fx
  setup(function() fx = H.fixture("threads", 3, "tspec") end)
  teardown(function() if fx then fx.stop() end end)

  it("yields one record per thread of a process, named as the threads named themselves", function()
    local recs = H.collect(bpfiter.tasks { pid = fx.pid })
    local comms = {}
    for _, t in ipairs(recs) do comms[#comms + 1] = t.comm end
    table.sort(comms)
    assert.same({ "tspec", "tspec-1", "tspec-2", "tspec-3" }, comms)
    local tids = {}
    for _, t in ipairs(recs) do tids[#tids + 1] = t.pid end
    table.sort(tids)
    assert.same(H.proc_tids(fx.pid), tids)
  end)

  it("matches /proc/PID/task/TID/stat and status field by field", function()
    local status = H.proc_status(fx.pid)
    local uid, euid = status.Uid:match("^(%d+)%s+(%d+)")
    local gid, egid = status.Gid:match("^(%d+)%s+(%d+)")
    local exe = lfs.symlinkattributes(("/proc/%d/exe"):format(fx.pid)).target
    local cg = cgroup2_id(fx.pid)
    for t in bpfiter.tasks { pid = fx.pid } do
      local st = H.proc_stat(fx.pid, t.pid)
      assert.equal(st[1], t.pid)
      assert.equal(fx.pid, t.tgid)
      assert.equal(st[2], t.comm)
      assert.equal(st[3], t.state)
      assert.equal(st[4], t.ppid)
      assert.equal(st[10], t.min_flt)
      assert.equal(st[12], t.maj_flt)
      assert.equal(st[18], t.prio)
      assert.equal(st[19], t.nice)
      assert.equal(st[20], t.nr_threads)
      assert.equal(st[22], t.start_time_ns // (1000000000 // CLK_TCK))
      assert.equal(st[23], t.vsize)
      assert.equal(st[24], t.rss // PAGE)
      assert.equal(st[39], t.cpu)
      assert.equal(tonumber(uid), t.uid)
      assert.equal(tonumber(euid), t.euid)
      assert.equal(tonumber(gid), t.gid)
      assert.equal(tonumber(egid), t.egid)
      assert.equal(exe, t.exe)
      assert.equal(cg, t.cgroup_id)
      assert.is_false(t.kthread)
      -- /proc scales sampled times to the precise runtime; both are tiny
      -- for idle threads, so only check the units are consistent.
      assert.is_true(t.utime_ns + t.stime_ns <= t.runtime_ns + 2 * 10000000)
    end
  end)

  it("gives one record per process with threads = false", function()
    local recs = H.collect(bpfiter.tasks { pid = fx.pid, threads = false })
    assert.equal(1, #recs)
    assert.equal(fx.pid, recs[1].pid)
    assert.equal("tspec", recs[1].comm)
    assert.equal(4, recs[1].nr_threads)
  end)

  it("gives just that thread when pid names a thread, not a process", function()
    local tid = H.proc_tids(fx.pid)[2]
    local recs = H.collect(bpfiter.tasks { pid = tid })
    assert.equal(1, #recs)
    assert.equal(tid, recs[1].pid)
    assert.equal(fx.pid, recs[1].tgid)
  end)

  it("sees every thread of the spawned process and this one in a system-wide walk", function()
    local seen, me = {}, own_pid()
    local procs = 0
    for t in bpfiter.tasks() do
      seen[t.pid] = t
      if t.pid == t.tgid then procs = procs + 1 end
    end
    for _, tid in ipairs(H.proc_tids(fx.pid)) do
      assert.is_not_nil(seen[tid], "thread " .. tid)
      assert.equal(fx.pid, seen[tid].tgid)
    end
    assert.equal("lua5.4", seen[me].comm)
    local only = 0
    for _ in bpfiter.tasks { threads = false } do only = only + 1 end
    -- threads=false keeps exactly the group leaders (processes may come
    -- and go between the two walks, hence the tolerance).
    assert.is_true(math.abs(only - procs) <= 5, ("%d vs %d"):format(only, procs))
  end)

  it("marks kernel threads and gives them no exe or memory", function()
    local k
    for t in bpfiter.tasks { threads = false } do
      if t.comm == "kthreadd" then k = t end
    end
    assert.is_not_nil(k)
    assert.is_true(k.kthread)
    assert.is_nil(k.exe)
    assert.equal(0, k.rss)
    assert.equal(0, k.ppid)
  end)
end)
