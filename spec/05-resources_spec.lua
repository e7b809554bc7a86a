-- Every way out of a walk releases the kernel link and fds at once: break,
-- an error in the loop body, an explicit close, garbage collection. Out of
-- fds, every walk collects the dropped ones and tries again, or fails with
-- nil, message, EMFILE.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local EMFILE = 24
-- spec/fd_limit_child.lua, next to this file however busted was started
local CHILD = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "fd_limit_child.lua"

local CYCLES = 10000
local me = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))

local function walk_and_break()
  for t in bpfiter.tasks { pid = me } do
    if t then break end
  end
end

local function walk_and_fail()
  local ok, err = pcall(function()
    for _ in bpfiter.files { pid = me } do error("boom") end
  end)
  assert(not ok and err:match("boom$"))
end

local function open_and_close()
  local _, it = bpfiter.vmas { pid = me }
  it:close()
end

local function open_and_drop()
  local step, it = bpfiter.vmas { pid = me }
  step(it)
end

local function cycles(fn)
  fn() -- warm-up: the first call loads the BPF program, which keeps its fds
  collectgarbage()
  local fds, links = H.fd_count(), H.bpf_link_count()
  for i = 1, CYCLES do
    fn()
    if i % 500 == 0 then collectgarbage() end
  end
  collectgarbage()
  collectgarbage()
  assert.equal(fds, H.fd_count())
  assert.equal(links, H.bpf_link_count())
end

describe("resources", function()
  it("counts our own link while a walk is open (the measure sees us)", function()
    local links = H.bpf_link_count()
    local step, it = bpfiter.tasks { pid = me }
    step(it)
    -- The iterator fd holds the link; bpftool lists it.
    assert.equal(links + 1, H.bpf_link_count())
    it:close()
    assert.equal(links, H.bpf_link_count())
  end)

  it("releases everything on break, 10,000 times", function() cycles(walk_and_break) end)
  it("releases everything on an error in the loop body, 10,000 times", function() cycles(walk_and_fail) end)
  it("releases everything on explicit close, 10,000 times", function() cycles(open_and_close) end)
  it("releases everything when dropped and collected, 10,000 times", function() cycles(open_and_drop) end)

  it("releases at the end of a walk without waiting for close or GC", function()
    local fds = H.fd_count()
    local step, it = bpfiter.tasks { pid = me }
    while step(it) do end
    assert.equal(fds, H.fd_count())
    assert.matches("%(done%)$", tostring(it))
  end)
end)

describe("out of fds (ulimit -n 64)", function()
  local bpffs, map, view
  -- Every target, the pinned-view reader, the two collectors, discovery.
  local starts = {}
  for _, t in ipairs(bpfiter.target_names) do
    if bpfiter.available(t) then starts[#starts + 1] = t end -- the rest: ENOTSUP, spec 14
  end
  for _, t in ipairs { "open", "cpu_wait", "cache_activity_collector", "targets" } do starts[#starts + 1] = t end

  setup(function()
    bpffs = H.bpffs()
    map, view = bpffs.fs .. "/map", bpffs.fs .. "/view"
    local out, status = H.run(("env -u LD_PRELOAD bpftool map create '%s' type hash key 4 value 8 " ..
      "entries 16 name fdspec%d"):format(map, me))
    assert(status == 0, out)
    out, status = H.run(("env -u LD_PRELOAD bpftool map update pinned '%s' key 1 0 0 0 value 2 0 0 0 0 0 0 0")
      :format(map))
    assert(status == 0, out)
    assert(bpfiter.pin("tasks", view, { pid = me }))
    assert(lfs.mkdir(bpffs.fs .. "/maps"))
    out, status = H.run(("env -u LD_PRELOAD bpftool prog load '%s/spec-elems.bpf.o' '%s/prog' pinmaps '%s/maps'")
      :format(H.build, bpffs.fs, bpffs.fs))
    assert(status == 0, out)
  end)

  teardown(function()
    if bpffs then bpffs.remove() end
  end)

  -- The child's stdout and stderr, and its exit status.
  local function child(mode, target, path)
    path = path or target == "map_elems" and map or target == "open" and view or ""
    return H.run(("sh -c 'ulimit -n 64 && exec lua5.4 %s %s %s %s'"):format(CHILD, mode, target, path))
  end

  for _, target in ipairs(starts) do
    it(target .. ": walks dropped without close never make the next one fail", function()
      local out, code = child("drop", target)
      assert.equal(0, code, out)
      assert.matches("^ok %d+\n$", out)
    end)
  end

  for _, target in ipairs(starts) do
    it(target .. ": with no fd free, fails with nil, message, EMFILE, then works again", function()
      local out, code = child("exhaust", target)
      assert.equal(0, code, out)
      local msg, errno = out:match("^fail (.-)|(%d+)\n")
      assert.is_not_nil(msg, out)
      assert.equal(EMFILE, tonumber(errno))
      assert.matches("Too many open files", msg, 1, true)
      assert.matches("\nok\n$", out)
    end)
  end

  it("map_elems: with no fd free for reading a map's BTF, a step raises EMFILE, never leaves it undecoded",
    function()
      local out, code = child("btf", "map_elems", bpffs.fs .. "/maps/elems_array")
      assert.equal(0, code, out)
      assert.matches("^raised [^\n]*Too many open files\n", out)
      assert.matches("\nok\n$", out)
    end)

  for _, target in ipairs(starts) do
    it(target .. ": with no fd free for loading its program, fails with EMFILE, then loads", function()
      local out, code = child("cold", target)
      assert.equal(0, code, out)
      assert.equal(EMFILE, tonumber(out:match("^fail .-|(%d+)\n")), out)
      assert.matches("\nok\n$", out)
    end)
  end
end)
