-- The error convention: programmer errors raise with the argument position,
-- environmental failures return nil, message, errno.
local bpfiter = require "bpfiter"
local H = require "helper"

local ESRCH, EPERM = 3, 1

local function free_pid()
  local max = tonumber(H.read_file("/proc/sys/kernel/pid_max"))
  for pid = max - 1, 2, -1 do
    if not H.read_file(("/proc/%d/stat"):format(pid)) then return pid end
  end
end

describe("errors", function()
  it("raises for a non-table argument, naming the position and function", function()
    assert.has_error(function() bpfiter.tasks(5) end,
      "bad argument #1 to 'tasks' (table expected, got number)")
    assert.has_error(function() bpfiter.vmas("x") end,
      "bad argument #1 to 'vmas' (table expected, got string)")
  end)

  it("raises for an unknown option, naming it", function()
    assert.has_error(function() bpfiter.tasks { bogus = 1 } end,
      "bad argument #1 to 'tasks' (unknown option 'bogus' for tasks)")
    assert.has_error(function() bpfiter.files { threads = false } end,
      "bad argument #1 to 'files' (unknown option 'threads' for files)")
  end)

  it("raises for options of the wrong type or range", function()
    assert.has_error(function() bpfiter.tasks { pid = "1" } end,
      "bad argument #1 to 'tasks' (option 'pid' must be an integer, got string)")
    assert.has_error(function() bpfiter.files { pid = 1.5 } end,
      "bad argument #1 to 'files' (option 'pid' must be an integer, got number)")
    assert.has_error(function() bpfiter.vmas { pid = -4 } end,
      "bad argument #1 to 'vmas' (option 'pid' must be a positive pid, got -4)")
    assert.has_error(function() bpfiter.tasks { pid = 0 } end,
      "bad argument #1 to 'tasks' (option 'pid' must be a positive pid, got 0)")
    assert.has_error(function() bpfiter.tasks { threads = "no" } end,
      "bad argument #1 to 'tasks' (option 'threads' must be a boolean, got string)")
  end)

  it("returns nil, message, ESRCH for a pid that does not exist", function()
    local pid = free_pid()
    for _, target in ipairs { "tasks", "files", "vmas" } do
      local f, msg, errno = bpfiter[target] { pid = pid }
      assert.is_nil(f)
      assert.equal(("%s: pid %d: No such process"):format(target, pid), msg)
      assert.equal(ESRCH, errno)
    end
    local list, msg = bpfiter.collect("files", { pid = pid })
    assert.is_nil(list)
    assert.matches("No such process", msg)
  end)

  it("tells an unprivileged user which capability is missing", function()
    local script = [[
      local b = require "bpfiter"
      local f, msg, errno = b.tasks()
      io.write(tostring(f), "|", msg, "|", errno)
    ]]
    local out = H.run(("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " ..
      "--bounding-set=-all lua5.4 -e '%s'"):format(script))
    local f, msg, errno = out:match("^(.-)|(.-)|(%d+)$")
    assert.equal("nil", f, out)
    assert.matches("^tasks: loading the BPF program failed %(needs root, or CAP_BPF and CAP_PERFMON%)", msg)
    assert.equal(EPERM, tonumber(errno))
  end)

  it("raises when a closed iterator is stepped, and says so in tostring", function()
    local step, it = bpfiter.tasks { pid = tonumber(H.read_file("/proc/self/stat"):match("^%d+")) }
    assert.matches("^bpfiter.iterator: tasks %(open%)$", tostring(it))
    it:close()
    it:close() -- twice is fine
    assert.matches("^bpfiter.iterator: tasks %(closed%)$", tostring(it))
    assert.has_error(function() step(it) end, "bpfiter: tasks: iterator is closed")
  end)

  it("treats an empty walk as complete, not as an error", function()
    -- kthreadd has no memory map: the kernel sends the trailer alone.
    local kthreadd
    for t in bpfiter.tasks { threads = false } do
      if t.comm == "kthreadd" then kthreadd = t.pid end
    end
    assert.same({}, H.collect(bpfiter.vmas { pid = kthreadd }))
    assert.equal(1, #H.collect(bpfiter.tasks { pid = kthreadd }))
  end)

  it("returns nil after the end of a walk instead of restarting", function()
    local step, it = bpfiter.tasks { pid = tonumber(H.read_file("/proc/self/stat"):match("^%d+")) }
    assert.is_table(step(it))
    assert.is_nil(step(it))
    assert.is_nil(step(it))
    assert.matches("%(done%)$", tostring(it))
  end)
end)
