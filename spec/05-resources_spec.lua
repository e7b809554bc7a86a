-- Every way out of a walk releases the kernel link and fds at once: break,
-- an error in the loop body, an explicit close, garbage collection.
local bpfiter = require "bpfiter"
local H = require "helper"

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
