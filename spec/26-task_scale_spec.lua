-- bpfiter.tasks at a scale CI affords: 20,000 threads spread over 10
-- processes this spec starts (one process may not map that many stacks:
-- vm.max_map_count), every one listed, compared with /proc/PID/task.
-- `make bench` (bench/scale.lua) does the same with 100,000.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local PROCS, PER_PROC = 10, H.scaled(2000) -- a tenth under emulation (vm-check)
local TOTAL = PROCS * PER_PROC

-- Threads on the machine now (/proc/loadavg: running/total).
local function tasks_now()
  return tonumber(H.read_file("/proc/loadavg"):match("%d+/(%d+)"))
end

describe("tasks at scale", function()
  local fxs, restore = {}, nil

  setup(function()
    -- Room for the threads: pid_max and threads-max raised if needed,
    -- restored in teardown.
    local pid_max = tonumber(H.read_file("/proc/sys/kernel/pid_max"))
    local threads_max = tonumber(H.read_file("/proc/sys/kernel/threads-max"))
    local need = tasks_now() + TOTAL + 2000
    restore = {}
    if pid_max < need then
      restore[#restore + 1] = function() H.write_file("/proc/sys/kernel/pid_max", pid_max) end
      H.write_file("/proc/sys/kernel/pid_max", math.max(need, 65536))
    end
    if threads_max < need then
      restore[#restore + 1] = function() H.write_file("/proc/sys/kernel/threads-max", threads_max) end
      H.write_file("/proc/sys/kernel/threads-max", need)
    end
    for i = 1, PROCS do fxs[i] = H.fixture("threads", PER_PROC, "scale" .. i) end
  end)

  teardown(function()
    for _, fx in ipairs(fxs) do fx.stop() end
    -- pid_max may only go down once the threads are gone
    for _ = 1, 100 do
      local alive = false
      for _, fx in ipairs(fxs) do alive = alive or lfs.attributes("/proc/" .. fx.pid) ~= nil end
      if not alive then break end
      H.sleep(0.05)
    end
    for _, f in ipairs(restore or {}) do pcall(f) end
  end)

  it(("lists every one of %d threads, as /proc/PID/task does"):format(TOTAL), function()
    local want, mine = {}, {}
    for _, fx in ipairs(fxs) do
      mine[fx.pid] = true
      for _, tid in ipairs(H.proc_tids(fx.pid)) do want[#want + 1] = tid end
    end
    assert.equal(TOTAL + PROCS, #want)
    local got = {}
    for t in bpfiter.tasks() do
      if mine[t.tgid] then got[#got + 1] = t.pid end
    end
    table.sort(want)
    table.sort(got)
    assert.same(want, got)
  end)

  it(("gives each process its %d threads with pid =, and one record per process without threads"):format(PER_PROC + 1), function()
    local fx = fxs[PROCS]
    local n = 0
    for t in bpfiter.tasks { pid = fx.pid } do
      assert.equal(fx.pid, t.tgid)
      n = n + 1
    end
    assert.equal(PER_PROC + 1, n)
    local procs = 0
    for t in bpfiter.tasks { threads = false } do
      for _, f in ipairs(fxs) do if t.pid == f.pid then procs = procs + 1 end end
    end
    assert.equal(PROCS, procs)
  end)
end)
