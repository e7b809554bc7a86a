-- bpfiter.vmas against a process with 10,000 mappings it made, line by line
-- with /proc/PID/maps.
local bpfiter = require "bpfiter"
local H = require "helper"

local FIELDS = { "start", "end", "perms", "offset", "major", "minor", "inode", "path" }

local function same_mapping(want, got, where)
  for _, k in ipairs(FIELDS) do
    if want[k] ~= got[k] then
      error(("%s: field %s: /proc says %s, bpfiter says %s"):format(
        where, k, tostring(want[k]), tostring(got[k])), 2)
    end
  end
end

-- /proc/PID/maps, minus the x86 vsyscall page: it is the gate area, not a
-- VMA of the process, so the task_vma iterator never visits it (README).
local function proc_vmas(pid)
  local out = {}
  for _, m in ipairs(H.proc_maps(pid)) do
    if m.path ~= "[vsyscall]" then out[#out + 1] = m end
  end
  return out
end

describe("vmas", function()
  local fx
  setup(function() fx = H.fixture("maps", 10000, "$DIR") end)
  teardown(function() if fx then fx.stop() end end)

  it("equals /proc/PID/maps line by line for a process with 10,000 mappings", function()
    local want = proc_vmas(fx.pid)
    local got = H.collect(bpfiter.vmas { pid = fx.pid })
    assert.is_true(#want > 10000)
    assert.equal(#want, #got)
    for i = 1, #want do
      same_mapping(want[i], got[i], "mapping " .. i)
      assert.equal(fx.pid, got[i].pid)
    end
  end)

  it("names heap, stack, vdso and vvar as /proc does", function()
    local names = {}
    for v in bpfiter.vmas { pid = fx.pid } do
      if v.path then names[v.path] = true end
    end
    for _, n in ipairs { "[heap]", "[stack]", "[vdso]", "[vvar]" } do
      assert.is_true(names[n], n)
    end
  end)

  it("reports file offsets, shared and private file mappings", function()
    local by_start = H.by(H.collect(bpfiter.vmas { pid = fx.pid }), "start")
    local shared = by_start[tonumber(fx.info.file_map)]
    local private = by_start[tonumber(fx.info.file_map_private)]
    local anon = by_start[tonumber(fx.info.shared_anon)]
    assert.equal(fx.dir .. "/mapped.bin", shared.path)
    assert.equal("r--s", shared.perms)
    assert.equal(4 * 4096, shared.offset)
    assert.equal("rwxp", private.perms)
    assert.equal(2 * 4096, private.offset)
    assert.equal("rw-s", anon.perms)
    assert.equal("/dev/zero (deleted)", anon.path)
    local first = by_start[tonumber(fx.info.anon_start)]
    assert.equal("rw-p", first.perms)
    assert.is_nil(first.path)
    assert.equal(0, first.inode)
  end)

  it("walks every process when no pid is given", function()
    local mine, pids = 0, {}
    for v in bpfiter.vmas() do
      pids[v.pid] = true
      if v.pid == fx.pid then mine = mine + 1 end
    end
    assert.equal(#proc_vmas(fx.pid), mine)
    local me = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
    assert.is_true(pids[me])
  end)
end)

describe("vmas of a process changing its mappings", function()
  -- spec/vma_churn.c flips pages of a 2,000-page memfd mapping between
  -- writable and read-only (merging and splitting mappings) as fast as it can,
  -- while the walks let go of its mmap lock (whenever it waits, and at
  -- every read() boundary) and find their place again.
  local fx, block, block_end
  setup(function()
    fx = H.spawn("vma_churn", 2000)
    local start, pages = fx.info.block:match("^(%d+) (%d+)$")
    block, block_end = tonumber(start), tonumber(start) + tonumber(pages) * 4096
  end)
  teardown(function() if fx then fx.stop() end end)

  -- Records of one process in a walk: strictly increasing, never
  -- overlapping; inside the block, whole pages of the two kinds it has, at
  -- the file offset of their address (a record trimmed to start where the
  -- one before ended has its offset moved with it). Plain comparisons:
  -- luassert per record would take most of the time.
  local function check_walk(list, what)
    local function fail(i, why)
      local v, p = list[i], list[i - 1] or {}
      error(("%s: record %d [%x, %x) %s offset %x %s, after [%x, %x): %s"):format(
        what, i, v.start, v["end"], v.perms, v.offset, tostring(v.path),
        p.start or 0, p["end"] or 0, why), 3)
    end
    for i, v in ipairs(list) do
      if v.start >= v["end"] then fail(i, "empty") end
      if i > 1 and v.start < list[i - 1]["end"] then fail(i, "starts below the end of the one before") end
      if v.start >= block and v["end"] <= block_end then
        if v.start % 4096 ~= 0 or v["end"] % 4096 ~= 0 then fail(i, "not whole pages") end
        if v.perms ~= "rw-p" and v.perms ~= "r--p" then fail(i, "perms") end
        if v.offset ~= v.start - block then fail(i, "file offset") end
        if v.path ~= "/memfd:vma_churn (deleted)" then fail(i, "path") end
      end
    end
    -- the block is there from start to end (it never moves)
    assert.is_true(#list > 0 and list[1].start < block and list[#list]["end"] >= block_end, what)
  end

  it("are in strictly increasing address order in 150 walks of the process", function()
    for w = 1, 150 do
      check_walk(H.collect(bpfiter.vmas { pid = fx.pid }), "walk " .. w)
    end
  end)

  it("are in strictly increasing address order in walks of every process", function()
    for w = 1, 5 do
      local mine = {}
      for v in bpfiter.vmas() do
        if v.pid == fx.pid then mine[#mine + 1] = v end
      end
      check_walk(mine, "walk " .. w)
    end
  end)
end)

-- The open-coded walk (bpf/targets/vma_open.bpf.c: the task iterator and
-- the vma iterator kfuncs), an experiment built only into the core of
-- build/exp for bench/vmas_open.lua (README, Benchmarks): run in a child
-- process with that core, it and vmas give the records of /proc/PID/maps.
describe("the open-coded vmas walk (bench/vmas_open.lua)", function()
  local fx
  setup(function() fx = H.fixture("maps", 20000, "$DIR") end)
  teardown(function() if fx then fx.stop() end end)

  local CHILD = [[
    local bpfiter = require "bpfiter"
    local W = require "vma_walks"
    local pid = PID
    local step, it, errno = bpfiter.vmas_open { pid = pid }
    if not step then print("failed", errno, it) return end
    it:close()
    local walks = { "vmas", "vmas_open" }
    print("compared", W.check_same(bpfiter, walks, { pid = pid }), W.check_same(bpfiter, walks, {}))
  ]]

  it("gives /proc/PID/maps' records for 40,000 mappings and for every process", function()
    local exp = H.build .. "/exp"
    assert.truthy(H.read_file(exp .. "/bpfiter/core.so"), "build/exp is missing: make fixtures builds it")
    local script = CHILD:gsub("PID", tostring(fx.pid))
    local out, code = H.run(("env LUA_CPATH='%s/?.so;;' lua5.4 -e '%s'"):format(exp, script))
    assert.equal(0, code, out)
    if not H.kernel_function("bpf_iter_task_vma_new") then
      assert.matches("^failed\t95\t", out)	-- ENOTSUP: needs 6.7
      return
    end
    local one, all = out:match("^compared\t(%d+)\t(%d+)\t%d+\n$")
    assert.equal("1", one, out)
    assert.is_true(tonumber(all) >= 1, out)
  end)
end)
