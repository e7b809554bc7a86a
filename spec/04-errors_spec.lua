-- The error convention: programmer errors raise with the argument position,
-- environmental failures return nil, message, errno.
local bpfiter = require "bpfiter"
local H = require "helper"

local ESRCH, EPERM = 3, 1

-- The message of the argument error fn(...) raises, without the
-- "bad argument #1 to 'NAME'" part (NAME depends on how fn was reached).
local function argerr(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "no error raised")
  local inner = tostring(err):match("bad argument #1 to '[^']*' %((.*)%)$")
  assert(inner, err)
  return inner
end

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

  it("rejects the 'absent' pid sentinel and pids out of range", function()
    for _, target in ipairs { "tasks", "files", "vmas", "epoll" } do
      for _, pid in ipairs { math.mininteger, 0, -1, 0x40000000, math.maxinteger } do
        assert.equal(("option 'pid' must be a positive pid, got %d"):format(pid), argerr(bpfiter[target], { pid = pid }))
      end
    end
    for _, target in ipairs { "cached_files", "pagecache" } do
      local ok, err = pcall(bpfiter[target], { pid = math.mininteger })
      assert.is_false(ok)
      assert.matches("option 'pid' must be a positive pid", err, 1, true)
    end
  end)

  it("treats a key with a NUL byte as unknown, not as the name before it", function()
    assert.has_error(function() bpfiter.tasks { ["pid\0x"] = 1 } end,
      'bad argument #1 to \'tasks\' (unknown option "pid\\000x" for tasks)')
    assert.has_error(function() bpfiter.tasks { ["threads\0"] = false } end,
      'bad argument #1 to \'tasks\' (unknown option "threads\\000" for tasks)')
    local ok, err = pcall(bpfiter.cached_files, { ["path\0"] = "/" })
    assert.is_false(ok)
    assert.matches("unknown option", err, 1, true)
  end)

  it("refuses string values with a NUL byte, which C would cut short", function()
    local cases = {
      { "cgroups", { order = "pre\0junk" }, "order" },
      { "cgroups", { root = "/sys/fs/cgroup\0/x" }, "root" },
      { "map_elems", { map = "/sys/fs/bpf/m\0x" }, "map" },
      { "cached_files", { path = "/etc/passwd\0x" }, "path" },
      { "pagecache", { path = "/etc/passwd\0x" }, "path" },
      { "cached_files", { scope = "open\0" }, "scope" },
    }
    for _, c in ipairs(cases) do
      assert.matches(("^option '%s' must not contain NUL bytes"):format(c[3]), argerr(bpfiter[c[1]], c[2]))
    end
  end)

  it("refuses paths, names and modes with a NUL byte in pin, open and unpin", function()
    local function nul(fn, ...)
      local ok, err = pcall(fn, ...)
      assert.is_false(ok)
      assert.matches("must not contain NUL bytes", err, 1, true)
    end
    nul(bpfiter.pin, "tasks\0x", "/sys/fs/bpf/bpfiter-spec-nul")
    nul(bpfiter.pin, "tasks", "/sys/fs/bpf/bpfiter-spec-nul\0x")
    nul(bpfiter.pin, "tasks", "/sys/fs/bpf/bpfiter-spec-nul", nil, "0640\0junk")
    nul(bpfiter.open, "/etc/passwd\0x")
    nul(bpfiter.unpin, "/sys/fs/bpf/bpfiter-spec-nul\0x")
    assert.is_nil(require("lfs").attributes("/sys/fs/bpf/bpfiter-spec-nul"))
  end)

  it("refuses filter values the kernel would read as 'no filter'", function()
    -- dev 0 and inode 0 are the program's "any": as values they would widen
    for _, opts in ipairs { { dev = 0 }, { ino = 0 }, { dev = 1 << 40 } } do
      local ok, err = pcall(bpfiter.cached_files, opts)
      assert.is_false(ok)
      assert.matches(("option '%s' must be"):format(next(opts)), err, 1, true)
    end
    assert.has_error(function() bpfiter.cgroups { root = 0 } end,
      "bad argument #1 to 'cgroups' (option 'root' must be a cgroup directory or a positive cgroup id, got 0)")
  end)

  it("checks the options a walk would check, without the walk (check_options)", function()
    assert.is_nil(bpfiter.check_options("tasks", { pid = 1, threads = false }))
    assert.equal("option 'pid' must be a positive pid, got 0", bpfiter.check_options("tasks", { pid = 0 }))
    assert.equal("unknown option 'file' for cached_files", bpfiter.check_options("cached_files", { file = "/" }))
    assert.is_nil(bpfiter.check_options("cached_files", { path = "/", min_pages = 0 }))
  end)

  it("names the caller's line, never a line inside bpfiter, in collect and map_elems errors", function()
    for _, call in ipairs {
      function() bpfiter.collect("tasks", { pid = 0 }) end,
      function() bpfiter.collect("map_elems", {}) end,
      function() bpfiter.collect("cached_files", { pid = 0 }) end,
      function() bpfiter.collect("tasks", 5) end,
      function() bpfiter.map_elems {} end,
      function() bpfiter.map_elems(-3) end,
    } do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.matches("^[^:]*04%-errors_spec%.lua:%d+: bad argument", err)
    end
  end)

  it("collect() of a name that is not a walk is an argument error", function()
    for _, name in ipairs { "pin", "open", "collect", "targets", "nothing" } do
      assert.has_error(function() bpfiter.collect(name) end,
        ("bad argument #1 to 'collect' ('%s' is not a walk; bpfiter.target_names lists them)"):format(name))
    end
    assert.has_error(function() bpfiter.collect(5) end,
      "bad argument #1 to 'collect' (number is not a walk; bpfiter.target_names lists them)")
  end)

  -- With stdin closed the pidfd lands on fd 0, which the kernel's link info
  -- reads as "no pid given": the walk covered every process.
  it("keeps pid = N to that process when the pidfd would be fd 0 (stdin closed)", function()
    local fx = H.fixture("threads", 2, "stdinspec")
    finally(fx.stop)
    local script = [[
      local b = require "bpfiter"
      assert(not io.open("/proc/self/fd/0"), "stdin is open")
      for _, target in ipairs { "tasks", "files", "vmas", "epoll" } do
        local recs = b.available(target) and assert(b.collect(target, { pid = %d })) or {}
        local out = {}
        for i, r in ipairs(recs) do out[i] = target == "tasks" and r.tgid .. ":" .. r.pid or r.pid .. ":" .. (r.fd or r.start or r.epfd) end
        print(target .. " " .. table.concat(out, " "))
      end
    ]]
    local out, code = H.run(("lua5.4 -e '%s' <&-"):format(script:format(fx.pid)))
    assert.equal(0, code, out)
    local got = {}
    for target, rest in out:gmatch("(%w+) ([^\n]*)") do
      got[target] = {}
      for pid, what in rest:gmatch("(%d+):(%d+)") do
        got[target][#got[target] + 1] = { tonumber(pid), tonumber(what) }
      end
    end
    -- tasks: exactly the fixture's threads
    local tids = {}
    for _, r in ipairs(got.tasks) do
      assert.equal(fx.pid, r[1])
      tids[#tids + 1] = r[2]
    end
    table.sort(tids)
    assert.same(H.proc_tids(fx.pid), tids)
    -- files: exactly its fds
    local want, fds = {}, {}
    for fd in pairs(H.proc_fds(fx.pid)) do want[#want + 1] = fd end
    for _, r in ipairs(got.files) do
      assert.equal(fx.pid, r[1])
      fds[#fds + 1] = r[2]
    end
    table.sort(want); table.sort(fds)
    assert.same(want, fds)
    -- vmas: its mappings only (the gate area is never visited)
    local maps = 0
    for _, m in ipairs(H.proc_maps(fx.pid)) do
      if m.path ~= "[vsyscall]" then maps = maps + 1 end
    end
    for _, r in ipairs(got.vmas) do assert.equal(fx.pid, r[1]) end
    assert.equal(maps, #got.vmas)
    -- epoll: the fixture has no epoll set, so nothing
    assert.same({}, got.epoll)
  end)
end)
