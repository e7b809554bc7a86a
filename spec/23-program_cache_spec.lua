-- The verified-program cache across processes, in a private bpffs mounted
-- here (and unmounted after): fresh lua5.4 processes reuse what the first
-- one verified, programs with per-walk state are never shared, and a
-- foreign, misplaced or unsafe cache is not trusted.
local bpfiter = require "bpfiter"
local H = require "helper"

local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. ".."

-- Targets whose programs keep state across calls (ring buffers, slots):
-- never cached; ksyms and vmas keep theirs per walk (session_* maps keyed
-- by the iterator session) and are. map_elems and epoll need arguments;
-- not walked here.
local NOT_SHARED = { pagecache = true, cached_files = true, unix = true, cgroups = true }

-- A fresh lua5.4 that opens every target (walking tasks and files to the
-- end) and prints, per target: name, records, program id, cached.
local WALK_ALL = [[
  local bpfiter = require "bpfiter"
  for _, t in ipairs(bpfiter.target_names) do
    if t ~= "map_elems" and t ~= "epoll" then
      local n = 0
      local step, it, _, closing = bpfiter[t]()
      if step and (t == "tasks" or t == "files") then
        for _ in step, it, nil, closing do n = n + 1 end
      elseif step then
        closing:close()
      end
      local info = bpfiter.program_info(t)
      print(t, n, info and info.id or 0, info and tostring(info.cached) or "none")
    end
  end
]]

local function child(cache, script, ...)
  local dir = H.mktemp_dir()
  local file = dir .. "/child.lua"
  H.write_file(file, script)
  local args = table.concat({ ... }, " ")
  local out, code = H.run(("env -u LD_PRELOAD BPFITER_PROGRAM_CACHE='%s' lua5.4 '%s' %s")
    :format(cache, file, args))
  H.rm_rf(dir)
  assert(code == 0, out)
  local rows = {}
  for t, n, id, cached in out:gmatch("(%S+)\t(%d+)\t(%d+)\t(%S+)\n") do
    rows[t] = { n = tonumber(n), id = tonumber(id), cached = cached }
  end
  return rows, out
end

-- Runs script (printing "result BAD CACHED") in two processes at once, one
-- per pid, with the cache; both must say no walk was wrong and that their
-- program came from the cache.
local function at_once(cache, script, pid_a, pid_b)
  local sdir = H.mktemp_dir()
  H.write_file(sdir .. "/walk.lua", script)
  local cmd = ("env -u LD_PRELOAD BPFITER_PROGRAM_CACHE='%s' lua5.4 %s/walk.lua"):format(cache, sdir)
  local out = H.run(("%s %d > %s/a & %s %d > %s/b; wait"):format(cmd, pid_a, sdir, cmd, pid_b, sdir))
  local a, b = H.read_file(sdir .. "/a") or "", H.read_file(sdir .. "/b") or ""
  H.rm_rf(sdir)
  assert.equal("result\t0\ttrue\n", a, out)
  assert.equal("result\t0\ttrue\n", b, out)
end

describe("the verified-program cache", function()
  local dir, cache
  before_each(function()
    dir = H.mktemp_dir()
    assert.equal(0, select(2, H.run(("mount -t bpf bpf '%s'"):format(dir))))
    cache = dir .. "/cache"
  end)
  after_each(function()
    H.run(("umount '%s'"):format(dir))
    H.rm_rf(dir)
  end)

  it("is filled by the first process and reused by the next, program for program", function()
    local first = child(cache, WALK_ALL)
    local second = child(cache, WALK_ALL)
    assert.is_true(next(first) ~= nil)
    for t, r in pairs(first) do
      if not bpfiter.available(t) then
        assert.equal("none", r.cached, t) -- this kernel lacks it: nothing loaded
      elseif NOT_SHARED[t] then
        assert.equal("false", r.cached, t) -- nothing was there yet
        assert.equal("false", second[t].cached, t)
        assert.are_not.equal(r.id, second[t].id, t)
      else
        -- the same kernel program: verified once, by the first process
        assert.equal("false", r.cached, t)
        assert.equal("true", second[t].cached, t)
        assert.equal(r.id, second[t].id, t)
      end
    end
    -- the cache lists them, and bpftool agrees about what is pinned
    local listing = H.run(("env BPFITER_PROGRAM_CACHE='%s' lua5.4 -e 'for _, e in ipairs(require(\"bpfiter\").program_cache().entries) do print(e.target, e.id) end'")
      :format(cache))
    local tasks_id = listing:match("tasks\t(%d+)")
    assert.equal(first.tasks.id, tonumber(tasks_id))
    local shown = H.run(("bpftool prog show pinned %s/$(ls %s | grep '^tasks-')"):format(cache, cache))
    assert.matches("^" .. first.tasks.id .. ": tracing%s+name dump_task", shown)
  end)

  it("replaces a foreign program found under a target's name", function()
    child(cache, WALK_ALL)
    local entry = H.run(("ls %s | grep '^tasks-'"):format(cache)):match("%S+")
    os.remove(cache .. "/" .. entry)
    local out, code = H.run(("bpftool prog load %s/spec-foreign_view.bpf.o %s/%s"):format(H.build, cache, entry))
    assert.equal(0, code, out)
    local rows = child(cache, WALK_ALL)
    assert.equal("false", rows.tasks.cached)
    assert.is_true(rows.tasks.n > 0)
    local shown = H.run(("bpftool prog show pinned %s/%s"):format(cache, entry))
    assert.matches("name dump_task", shown)
  end)

  it("is not used when the directory is not root's own 0700 one, nor off bpffs", function()
    child(cache, WALK_ALL)
    os.execute(("chmod 0755 '%s'"):format(cache))
    local rows = child(cache, WALK_ALL)
    assert.equal("false", rows.tasks.cached)
    assert.is_true(rows.tasks.n > 0)
    local plain = H.mktemp_dir()
    finally(function() H.rm_rf(plain) end)
    rows = child(plain .. "/cache", WALK_ALL)
    assert.equal("false", rows.tasks.cached)
    assert.is_true(rows.files.n > 0)
    -- and the listing says why
    local why = H.run(("env BPFITER_PROGRAM_CACHE='%s/cache' lua5.4 -e 'print(require(\"bpfiter\").program_cache().reason)'")
      :format(plain))
    assert.matches("bpffs", why)
  end)

  it("serves two processes walking the same target at once, each its own answer", function()
    child(cache, WALK_ALL)
    local a, b = H.fixture("threads", 7, "cachethrA"), H.fixture("threads", 13, "cachethrB")
    finally(function() a.stop(); b.stop() end)
    -- Each process walks its fixture's threads 300 times and says how many
    -- walks disagreed with /proc (the ground truth it reads itself).
    local script = [[
      local bpfiter = require "bpfiter"
      local pid = tonumber(arg[1])
      local lfs = require "lfs"
      local want = 0
      for e in lfs.dir("/proc/" .. pid .. "/task") do if e:match("^%d+$") then want = want + 1 end end
      local bad = 0
      for _ = 1, 300 do
        local n = 0
        for t in assert(bpfiter.tasks { pid = pid }) do
          if t.tgid ~= pid then bad = bad + 1 end
          n = n + 1
        end
        if n ~= want then bad = bad + 1 end
      end
      print("result", bad, tostring(bpfiter.program_info("tasks").cached))
    ]]
    at_once(cache, script, a.pid, b.pid)
  end)

  it("keeps a cached program's per-walk positions apart: two processes walking vmas at once", function()
    child(cache, WALK_ALL)
    local a, b = H.fixture("threads", 5, "cachevmaA"), H.fixture("threads", 9, "cachevmaB")
    finally(function() a.stop(); b.stop() end)
    -- Each walks its fixture's mappings 200 times: every walk must give
    -- /proc/PID/maps' mappings (less [vsyscall]) in increasing order.
    local script = [[
      local bpfiter = require "bpfiter"
      local pid = tonumber(arg[1])
      local want = 0
      for line in io.lines("/proc/" .. pid .. "/maps") do
        if not line:find("[vsyscall]", 1, true) then want = want + 1 end
      end
      local bad = 0
      for _ = 1, 200 do
        local n, last = 0, 0
        for v in assert(bpfiter.vmas { pid = pid }) do
          if v.pid ~= pid or v.start < last then bad = bad + 1 end
          last, n = v["end"], n + 1
        end
        if n ~= want then bad = bad + 1 end
      end
      print("result", bad, tostring(bpfiter.program_info("vmas").cached))
    ]]
    at_once(cache, script, a.pid, b.pid)
  end)

  it("is listed and emptied by bpfiter programs", function()
    child(cache, WALK_ALL)
    local bin = ROOT .. "/bin/bpfiter"
    local out, code = H.run(("env BPFITER_PROGRAM_CACHE='%s' %s programs"):format(cache, bin))
    assert.equal(0, code, out)
    assert.matches("in use", out)
    assert.matches("\ntasks%s+id %d+", out)
    out, code = H.run(("env BPFITER_PROGRAM_CACHE='%s' %s programs --clear"):format(cache, bin))
    assert.equal(0, code, out)
    assert.equal("", H.run(("ls '%s'"):format(cache)))
  end)
end)
