-- bpfiter.cgroups against cgroup trees this spec makes (in the v2 hierarchy
-- and in a v1 one), with processes it moves in: every record is compared
-- with a directory walk of cgroupfs and the cgroup's own files.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local ENOENT, ENOTDIR, EINVAL = 2, 20, 22
local PID = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))

-- Mount points of cgroup filesystems from /proc/self/mountinfo: the v2 one,
-- and the v1 hierarchies by their options (e.g. "rw,pids").
local function mounts()
  local v2, v1 = nil, {}
  for line in H.read_file("/proc/self/mountinfo"):gmatch("[^\n]+") do
    local root, mnt, fstype, opts = line:match("^%S+ %S+ %S+ (%S+) (%S+) .* %- (%S+) %S+ (%S+)$")
    if fstype == "cgroup2" and not v2 and root == "/" then v2 = mnt end
    if fstype == "cgroup" and root == "/" then v1[#v1 + 1] = { mnt = mnt, opts = opts } end
  end
  return v2, v1
end

local function nlines(path)
  local n = 0
  for _ in assert(H.read_file(path)):gmatch("[^\n]+") do n = n + 1 end
  return n
end

local function keyed(path)
  local t = {}
  for k, v in assert(H.read_file(path)):gmatch("(%S+) (%S+)") do t[k] = tonumber(v) or v end
  return t
end

local function ino(path) return lfs.attributes(path, "ino") end

-- Subdirectories of dir, sorted (cgroupfs lists cgroups as directories).
local function subdirs(dir)
  local out = {}
  for e in lfs.dir(dir) do
    if e ~= "." and e ~= ".." and lfs.symlinkattributes(dir .. "/" .. e, "mode") == "directory" then
      out[#out + 1] = e
    end
  end
  table.sort(out)
  return out
end

-- What a record for the cgroup at mount .. rel must say, from cgroupfs.
-- `files` names the task lists: v2 cgroup.threads, v1 tasks.
local function expected(mount, rel, v1)
  local dir = mount .. rel
  local level = select(2, rel:gsub("/[^/]+", ""))
  local parent = rel:match("^(.*)/[^/]+$")
  local e = {
    id = ino(dir), path = rel == "" and "/" or rel, name = rel:match("[^/]+$") or "/",
    level = level, parent_id = parent and ino(mount .. parent) or 0,
    nr_tasks = nlines(dir .. (v1 and "/tasks" or "/cgroup.threads")),
    nr_procs = nlines(dir .. "/cgroup.procs"),
  }
  if not v1 then
    local events, stat = keyed(dir .. "/cgroup.events"), keyed(dir .. "/cgroup.stat")
    e.populated = events.populated == 1
    e.frozen = events.frozen == 1
    e.nr_descendants = stat.nr_descendants
    e.nr_dying_descendants = stat.nr_dying_descendants
    e.threaded = H.read_file(dir .. "/cgroup.type"):match("^threaded") ~= nil
    e.hierarchy_id = 0
  end
  return e
end

local function walk(opts)
  return H.collect(bpfiter.cgroups(opts))
end

local function paths(recs)
  local out = {}
  for i, r in ipairs(recs) do out[i] = r.path end
  return out
end

-- Every field the record has that cgroupfs can confirm.
local function same_cgroup(want, got)
  for k, v in pairs(want) do
    assert.equal(v, got[k], ("%s of %s"):format(k, want.path))
  end
end

-- Each fixture process moved into a cgroup goes back where it came from.
local function move(fx, cgroup_dir, origin_dir)
  H.write_file(cgroup_dir .. "/cgroup.procs", fx.pid)
  fx.origin = origin_dir
end

local function move_back(fx)
  if fx and fx.origin then pcall(H.write_file, fx.origin .. "/cgroup.procs", fx.pid) end
end

-- rmdir, leaves first; only below base.
local function remove_tree(base)
  if not base or not lfs.attributes(base) then return end
  for _, d in ipairs(subdirs(base)) do remove_tree(base .. "/" .. d) end
  lfs.rmdir(base)
end

local V2, V1 = mounts()

describe("cgroups in the v2 hierarchy", function()
  -- base/{a/{a1, a2}, b}, created in this order; a1 holds a process with
  -- 3 extra threads, b two processes with one extra thread each.
  local rel = ("/bpfiter-spec-cgroups-%d"):format(PID)
  local base = V2 .. rel
  local fxs = {}
  local origin

  setup(function()
    origin = V2 .. H.read_file("/proc/self/cgroup"):match("\n?0::([^\n]*)")
    for _, d in ipairs { "", "/a", "/a/a1", "/a/a2", "/b" } do
      assert(lfs.mkdir(base .. d))
    end
    fxs.a1 = H.fixture("threads", 3, "cga1")
    fxs.b1 = H.fixture("threads", 1, "cgb1")
    fxs.b2 = H.fixture("threads", 1, "cgb2")
    move(fxs.a1, base .. "/a/a1", origin)
    move(fxs.b1, base .. "/b", origin)
    move(fxs.b2, base .. "/b", origin)
  end)

  teardown(function()
    for _, fx in pairs(fxs) do
      move_back(fx)
      fx.stop()
    end
    pcall(H.write_file, base .. "/a/cgroup.freeze", 0)
    remove_tree(base)
  end)

  local pre = { rel, rel .. "/a", rel .. "/a/a1", rel .. "/a/a2", rel .. "/b" }

  it("walks the tree in pre-order, each cgroup as cgroupfs and its files show it", function()
    local recs = walk { root = base }
    assert.same(pre, paths(recs))
    for _, r in ipairs(recs) do same_cgroup(expected(V2, r.path), r) end
    local by = H.by(recs, "path")
    assert.equal(4, by[rel .. "/a/a1"].nr_tasks)
    assert.equal(1, by[rel .. "/a/a1"].nr_procs)
    assert.equal(4, by[rel .. "/b"].nr_tasks)
    assert.equal(2, by[rel .. "/b"].nr_procs)
    assert.equal(0, by[rel .. "/a"].nr_tasks)
    assert.is_true(by[rel .. "/a"].populated)
    assert.is_false(by[rel .. "/a/a2"].populated)
    assert.equal(4, by[rel].nr_descendants)
  end)

  it("gives the same cgroups as a directory walk of cgroupfs, parents before children", function()
    local dirs = {}
    local function dirwalk(r)
      dirs[#dirs + 1] = r
      for _, d in ipairs(subdirs(V2 .. r)) do dirwalk(r .. "/" .. d) end
    end
    dirwalk(rel)
    local got = paths(walk { root = base, order = "pre" })
    local seen = {}
    for _, p in ipairs(got) do
      if p ~= rel then assert.is_true(seen[p:match("^(.*)/[^/]+$")], p .. " after its parent") end
      seen[p] = true
    end
    table.sort(dirs)
    table.sort(got)
    assert.same(dirs, got)
  end)

  it("walks in post-order: children before their parent", function()
    local recs = walk { root = base, order = "post" }
    assert.same({ rel .. "/a/a1", rel .. "/a/a2", rel .. "/a", rel .. "/b", rel }, paths(recs))
    for _, r in ipairs(recs) do same_cgroup(expected(V2, r.path), r) end
  end)

  it("walks up from a cgroup to the hierarchy's root", function()
    local recs = walk { root = base .. "/a/a1", order = "up" }
    local want, r = {}, rel .. "/a/a1"
    while r ~= "" do
      want[#want + 1] = r
      r = r:match("^(.*)/[^/]+$")
    end
    want[#want + 1] = "/"
    assert.same(want, paths(recs))
    for i, c in ipairs(recs) do
      if c.path ~= "/" then
        same_cgroup(expected(V2, c.path), c)
      end -- the root's tasks come and go (and pid 1 is invisible to BPF)
      if i > 1 then assert.equal(c.id, recs[i - 1].parent_id) end
    end
    assert.equal(0, recs[#recs].level)
    assert.equal(ino(V2), recs[#recs].id)
  end)

  it("walks one cgroup with order self", function()
    local recs = walk { root = base .. "/b", order = "self" }
    assert.equal(1, #recs)
    same_cgroup(expected(V2, rel .. "/b"), recs[1])
    assert.equal("b", recs[1].name)
  end)

  it("takes a cgroup id (the directory's inode) as root", function()
    local by_id = walk { root = ino(base .. "/a") }
    assert.same({ rel .. "/a", rel .. "/a/a1", rel .. "/a/a2" }, paths(by_id))
    assert.same(walk { root = base .. "/a" }, by_id)
  end)

  it("walks from the cgroup2 mount by default, with ids that tasks' cgroup_id matches", function()
    local recs = walk()
    assert.equal("/", recs[1].path)
    assert.equal(ino(V2), recs[1].id)
    assert.equal(0, recs[1].level)
    local by = H.by(recs, "path")
    for _, p in ipairs(pre) do
      assert.is_not_nil(by[p], p)
      assert.equal(ino(V2 .. p), by[p].id)
    end
    local task = H.collect(bpfiter.tasks { pid = fxs.a1.pid, threads = false })[1]
    assert.equal(by[rel .. "/a/a1"].id, task.cgroup_id)
    -- the path is what /proc/PID/cgroup says
    assert.equal(H.read_file(("/proc/%d/cgroup"):format(fxs.a1.pid)):match("\n?0::([^\n]*)"),
      by[rel .. "/a/a1"].path)
  end)

  it("reports a frozen subtree as cgroup.events does", function()
    finally(function() pcall(H.write_file, base .. "/a/cgroup.freeze", 0) end)
    H.write_file(base .. "/a/cgroup.freeze", 1)
    for _ = 1, 500 do
      if keyed(base .. "/a/cgroup.events").frozen == 1 then break end
      H.sleep(0.01)
    end
    local by = H.by(walk { root = base }, "path")
    assert.is_true(by[rel .. "/a"].frozen)
    assert.is_true(by[rel .. "/a/a1"].frozen)
    assert.is_false(by[rel .. "/b"].frozen)
    assert.is_false(by[rel].frozen)
    for _, r in pairs(by) do same_cgroup(expected(V2, r.path), r) end
  end)

  it("counts dying descendants and skips them, even when one would come first", function()
    -- An open walk rooted at z/doomed holds that cgroup: removed, it stays
    -- dying. In post-order it is the first cgroup the kernel visits.
    local z = base .. "/z"
    local step, held
    finally(function()
      if held then held:close() end
      remove_tree(z)
    end)
    assert(lfs.mkdir(z))
    assert(lfs.mkdir(z .. "/doomed"))
    assert(lfs.mkdir(z .. "/live"))
    step, held = assert(bpfiter.cgroups { root = z .. "/doomed" })
    assert(lfs.rmdir(z .. "/doomed"))
    local stat = keyed(z .. "/cgroup.stat")
    assert.equal(1, stat.nr_dying_descendants)
    local recs = walk { root = z, order = "post" }
    assert.same({ rel .. "/z/live", rel .. "/z" }, paths(recs))
    assert.equal(1, recs[2].nr_dying_descendants)
    assert.equal(1, recs[2].nr_descendants)
    -- the held walk itself: its root is gone, so the walk is empty
    assert.is_nil(step(held))
  end)

  it("keeps the last 32 components of a deeper cgroup's path after \"...\"", function()
    local deep = base .. "/deep"
    finally(function() remove_tree(deep) end)
    local p = deep
    for i = 0, 40 do
      p = i == 0 and p or p .. "/" .. i
      assert(lfs.mkdir(p))
    end
    local r = walk { root = p, order = "self" }[1]
    local want = {}
    for i = 9, 40 do want[#want + 1] = tostring(i) end
    assert.equal(".../" .. table.concat(want, "/"), r.path)
    assert.equal("40", r.name)
    assert.equal(select(2, rel:gsub("/", "")) + 41, r.level)
    assert.equal(ino(p), r.id)
  end)

  it("walks past the kernel's one buffer; a pinned view of that raises a clear error", function()
    -- The cgroup iterator cannot go on in a second read: 150 cgroups with
    -- 200-character names make about 42 KiB of records, over its 32 KiB.
    -- A walk takes them through the ring; a pinned view has only the stream.
    local many = base .. "/many"
    local fs = H.bpffs()
    finally(function()
      fs.remove()
      remove_tree(many)
    end)
    assert(lfs.mkdir(many))
    local want = { rel .. "/many" }
    for i = 1, 150 do
      local name = ("%03d%s"):format(i, ("x"):rep(197))
      assert(lfs.mkdir(many .. "/" .. name))
      want[#want + 1] = rel .. "/many/" .. name
    end
    assert.same(want, paths(walk { root = many }))

    assert(bpfiter.pin("cgroups", fs.fs .. "/many", { root = many }))
    local n = 0
    local ok, err = pcall(function()
      for _ in assert(bpfiter.open(fs.fs .. "/many")) do n = n + 1 end
    end)
    assert.is_false(ok)
    assert.matches("^bpfiter: cgroups: reading the iterator failed %(the walk outgrew the one " ..
      "kernel buffer a pinned view of this iterator has", err)
    assert.is_true(n > 50 and n < 151, tostring(n))
  end)
end)

describe("cgroups in a v1 hierarchy", function()
  -- base1/x/y in the pids hierarchy (or the first v1 one), a process in y.
  local h, base1, rel1, fx, origin, hierarchy_id
  for _, m in ipairs(V1) do
    if m.opts:match("pids") then h = m end
  end
  h = h or V1[1]

  setup(function()
    if not h then return end
    local name = h.mnt:match("[^/]+$")
    for line in H.read_file("/proc/self/cgroup"):gmatch("[^\n]+") do
      local id, ctrl, path = line:match("^(%d+):([^:]*):(.*)$")
      for c in ctrl:gmatch("[^,]+") do
        if c == name or c == "name=" .. name then
          hierarchy_id, origin = tonumber(id), h.mnt .. (path == "/" and "" or path)
        end
      end
    end
    rel1 = ("/bpfiter-spec-cgroups-%d"):format(PID)
    base1 = h.mnt .. rel1
    for _, d in ipairs { "", "/x", "/x/y" } do assert(lfs.mkdir(base1 .. d)) end
    fx = H.fixture("threads", 2, "cgv1")
    move(fx, base1 .. "/x/y", origin)
  end)

  teardown(function()
    if fx then
      move_back(fx)
      fx.stop()
    end
    remove_tree(base1)
  end)

  it("walks a v1 hierarchy's directory like the v2 one, with its hierarchy id", function()
    if not h then pending("no cgroup v1 hierarchy mounted") return end
    local recs = walk { root = base1 }
    assert.same({ rel1, rel1 .. "/x", rel1 .. "/x/y" }, paths(recs))
    for _, r in ipairs(recs) do
      same_cgroup(expected(h.mnt, r.path, true), r)
      assert.equal(hierarchy_id, r.hierarchy_id)
      assert.is_true(r.populated)
      assert.is_false(r.frozen)
    end
    assert.equal(3, recs[3].nr_tasks)
    assert.equal(1, recs[3].nr_procs)
    assert.equal(2, recs[1].nr_descendants)
    -- the path is the one /proc/PID/cgroup shows for this hierarchy
    local line = H.read_file(("/proc/%d/cgroup"):format(fx.pid)):match("\n?" .. hierarchy_id .. ":[^:]*:([^\n]*)")
    assert.equal(line, recs[3].path)
    local post = walk { root = base1, order = "post" }
    assert.same({ rel1 .. "/x/y", rel1 .. "/x", rel1 }, paths(post))
  end)
end)

describe("cgroups errors", function()
  it("returns nil, message, errno for a root that is not a cgroup directory", function()
    local f, msg, errno = bpfiter.cgroups { root = "/tmp" }
    assert.is_nil(f)
    assert.equal("cgroups: root /tmp is not a cgroup directory: Invalid argument", msg)
    assert.equal(EINVAL, errno)
    f, msg, errno = bpfiter.cgroups { root = V2 .. "/bpfiter-no-such-cgroup" }
    assert.is_nil(f)
    assert.equal(("cgroups: root %s/bpfiter-no-such-cgroup: No such file or directory"):format(V2), msg)
    assert.equal(ENOENT, errno)
    f, msg, errno = bpfiter.cgroups { root = V2 .. "/cgroup.procs" }
    assert.is_nil(f)
    assert.matches("Not a directory$", msg)
    assert.equal(ENOTDIR, errno)
  end)

  it("returns nil, message, ENOENT for a cgroup id that does not exist", function()
    local f, msg, errno = bpfiter.cgroups { root = 1 << 40 }
    assert.is_nil(f)
    assert.matches("^cgroups: ", msg)
    assert.equal(ENOENT, errno)
  end)

  it("raises for an unknown order and a root of the wrong kind", function()
    assert.has_error(function() bpfiter.cgroups { order = "sideways" } end,
      "bad argument #1 to 'cgroups' (option 'order' must be \"pre\", \"post\", \"up\" or \"self\", got \"sideways\")")
    assert.has_error(function() bpfiter.cgroups { root = 0 } end,
      "bad argument #1 to 'cgroups' (option 'root' must be a cgroup directory or a positive cgroup id, got 0)")
    assert.has_error(function() bpfiter.cgroups { root = 1.5 } end,
      "bad argument #1 to 'cgroups' (option 'root' must be an integer or a string, got number)")
    assert.has_error(function() bpfiter.cgroups { order = 1 } end,
      "bad argument #1 to 'cgroups' (option 'order' must be a string, got number)")
  end)
end)

describe("cgroups at scale", function()
  -- 3,000 cgroups in 30 groups of 100 under a parent of their own, with
  -- 255-character names: about 1.8 MiB of records, 50 times what the
  -- kernel's one buffer holds and more than the ring's first 1 MiB, so the
  -- first walk also loads the program again with a larger ring.
  local rel = ("/bpfiter-spec-scale-%d"):format(PID)
  local base = V2 .. rel
  local pad = ("p"):rep(252)
  local pre, post = { rel }, {}

  setup(function()
    local ok, err = pcall(function()
      assert(lfs.mkdir(base))
      for g = 1, 30 do
        local group = ("%s/g%02d%s"):format(rel, g, pad)
        assert(lfs.mkdir(V2 .. group))
        pre[#pre + 1] = group
        for c = 1, 100 do
          local path = ("%s/c%03d%s"):format(group, c, pad:sub(2))
          assert(lfs.mkdir(V2 .. path))
          pre[#pre + 1] = path
          post[#post + 1] = path
        end
        post[#post + 1] = group
      end
      post[#post + 1] = rel
    end)
    if not ok then
      remove_tree(base)
      error(err)
    end
  end)

  teardown(function() remove_tree(base) end)

  it("walks all 3,031 in pre-order, as a directory walk of cgroupfs finds them", function()
    assert(H.collect(bpfiter.cgroups { order = "self" }))  -- loaded, with the first ring
    local first = bpfiter.program_info("cgroups").id
    -- a walk opened before the ring grows, read after: all its records too
    local step, it, _, closing = bpfiter.cgroups { root = V2 .. pre[2] }
    local recs = walk { root = base }
    assert.not_equal(first, bpfiter.program_info("cgroups").id)  -- the ring grew
    assert.same(pre, paths(recs))
    local early = {}
    do
      local _ <close> = closing
      for r in step, it do early[#early + 1] = r.path end
    end
    assert.same({ table.unpack(pre, 2, 102) }, early)
    for i, r in ipairs(recs) do assert.equal(ino(V2 .. pre[i]), r.id, pre[i]) end
    assert.equal(3030, recs[1].nr_descendants)
  end)

  it("walks all of them in post-order, and up and self from the deepest", function()
    assert.same(post, paths(walk { root = base, order = "post" }))
    local leaf = pre[#pre]
    local up = paths(walk { root = V2 .. leaf, order = "up" })
    assert.same({ leaf, leaf:match("^(.*)/"), rel }, { up[1], up[2], up[3] })
    assert.equal("/", up[#up])
    assert.equal(select(2, leaf:gsub("/", "")) + 1, #up)
    assert.same({ leaf }, paths(walk { root = V2 .. leaf, order = "self" }))
  end)

  it("gives the cpu_wait collector every one of them", function()
    local rows = assert(bpfiter.cgroup_cpu_wait { root = base, duration = 0.05 })
    assert.same(pre, paths(rows))
    for _, r in ipairs(rows) do assert.is_number(r.waits) end
  end)

  it("walks them again and again with one program (the grown ring stays)", function()
    local before = bpfiter.program_info("cgroups").id
    for _ = 1, 3 do assert.equal(#pre, #walk { root = base }) end
    assert.equal(before, bpfiter.program_info("cgroups").id)
  end)
end)
