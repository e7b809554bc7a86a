-- Pinned views: bpfiter.pin / open / unpin on a bpffs this spec mounts in a
-- temporary directory. User nobody (setpriv, no capabilities) reads views
-- by their file mode alone and gets the live iterator's records; views keep
-- the options they were pinned with; open() refuses what is not a view.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local EACCES, ENOENT, EINVAL, EISDIR, EPROTO, ENOTSUP = 13, 2, 22, 21, 71, 95
local PID = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
local NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"

-- One line per record: its fields sorted by name, so two walks compare as
-- sorted lists of strings (integers stay exact).
local SERIALIZE = [[
local function line(r)
  local keys, parts = {}, {}
  for k in pairs(r) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = r[k]
    if type(v) == "table" then v = "{" .. table.concat(v, ",") .. "}" end -- cmdline
    parts[i] = k .. "=" .. tostring(v)
  end
  return table.concat(parts, "\t")
end
]]
local line = load(SERIALIZE .. "return line")()

local function lines(step, it)
  assert(step, it)
  local out = {}
  for r in step, it do out[#out + 1] = line(r) end
  table.sort(out)
  return out
end

-- Runs `lua5.4 script view [options]` as nobody; returns its records as
-- sorted lines, or nil, message, errno as bpfiter.open gave them.
local reader
local function read_as_nobody(view)
  local out, code = H.run(("%s lua5.4 %s %s"):format(NOBODY, reader, view))
  assert(code == 0, out)
  local msg, errno = out:match("^FAIL\t(.-)\t(%d+)\n$")
  if msg then return nil, msg, tonumber(errno) end
  local recs = {}
  for l in out:gmatch("[^\n]+") do recs[#recs + 1] = l end
  table.sort(recs)
  return recs
end

describe("pinned views", function()
  local dir, fs, fx, mounted
  local V2 = H.cgroup2_mount()
  local cg = V2 .. ("/bpfiter-spec-views-%d"):format(PID)
  local origin

  setup(function()
    dir = H.mktemp_dir()
    assert(os.execute("chmod 0755 " .. dir))
    fs = dir .. "/bpffs"
    assert(lfs.mkdir(fs))
    mounted = os.execute("mount -t bpf -o mode=0755 bpf " .. fs)
    assert(mounted, "cannot mount bpffs on " .. fs)
    reader = dir .. "/reader.lua"
    H.write_file(reader, SERIALIZE .. [[
local bpfiter = require "bpfiter"
local step, it, errno = bpfiter.open(arg[1])
if not step then
  io.write("FAIL\t", it, "\t", errno, "\n")
  return
end
for r in step, it do io.write(line(r), "\n") end
]])
    fx = H.fixture("threads", 2, "viewspec")
    origin = V2 .. H.read_file("/proc/self/cgroup"):match("\n?0::([^\n]*)")
    assert(lfs.mkdir(cg))
    assert(lfs.mkdir(cg .. "/c1"))
    assert(lfs.mkdir(cg .. "/c2"))
    H.write_file(cg .. "/c1/cgroup.procs", fx.pid)
  end)

  teardown(function()
    if fx then
      pcall(H.write_file, origin .. "/cgroup.procs", fx.pid)
      fx.stop()
    end
    for _, d in ipairs { "/c1", "/c2", "" } do lfs.rmdir(cg .. d) end
    collectgarbage()  -- iterators still open on the mount close their fds
    collectgarbage()
    if mounted and not os.execute("umount " .. fs) then  -- drops any pin left
      os.execute("umount -l " .. fs)
    end
    H.rm_rf(dir)
  end)

  -- A pin removed at the end of the test, whatever happens.
  local function pin_path(name)
    local path = fs .. "/" .. name
    finally(function()
      if lfs.symlinkattributes(path) then bpfiter.unpin(path) end
    end)
    return path
  end

  it("lets nobody read a 0644 tasks view: the same records as the live iterator", function()
    local path = pin_path("tasks-644")
    assert.is_true(assert(bpfiter.pin("tasks", path, { pid = fx.pid }, "0644")))
    assert.equal("rw-r--r--", lfs.attributes(path, "permissions"))
    local live = lines(bpfiter.tasks { pid = fx.pid })
    assert.equal(3, #live)
    assert.same(live, read_as_nobody(path))
    assert.same(live, lines(bpfiter.open(path)))
  end)

  it("gives nobody a permission error on a view pinned with the default mode 0600", function()
    local path = pin_path("tasks-600")
    assert.is_true(assert(bpfiter.pin("tasks", path, { pid = fx.pid })))
    assert.equal("rw-------", lfs.attributes(path, "permissions"))
    local recs, msg, errno = read_as_nobody(path)
    assert.is_nil(recs)
    assert.equal(("open: %s: Permission denied"):format(path), msg)
    assert.equal(EACCES, errno)
  end)

  it("keeps the pid a view was pinned with: a reader cannot re-target it", function()
    local path = pin_path("tasks-pid")
    assert(bpfiter.pin("tasks", path, { pid = fx.pid }, 416))  -- 416 = 0640
    assert.equal("rw-r-----", lfs.attributes(path, "permissions"))
    assert.has_error(function() bpfiter.open(path, { pid = PID }) end,
      "bad argument #2 to 'open' (option 'pid' is fixed when the view is pinned)")
    -- reader options still apply
    local leaders = H.collect(bpfiter.open(path, { threads = false }))
    assert.equal(1, #leaders)
    assert.equal(fx.pid, leaders[1].pid)
  end)

  it("pins a cgroups view with its root and order; it outlives the process that pinned it", function()
    local path = pin_path("cgroups")
    -- Another Lua process pins it and exits: the link keeps the program
    -- and the cgroup it opened.
    local out, code = H.run(("lua5.4 -e 'assert(require(\"bpfiter\").pin(\"cgroups\", %q, " ..
      "{root = %q, order = \"post\"}, \"0644\"))'"):format(path, cg))
    assert.equal(0, code, out)
    local live = lines(bpfiter.cgroups { root = cg, order = "post" })
    assert.equal(3, #live)
    assert.same(live, read_as_nobody(path))
    local recs = H.collect(bpfiter.open(path))
    assert.same({ "/c1", "/c2", "" }, {
      recs[1].path:sub(#cg - #V2 + 1), recs[2].path:sub(#cg - #V2 + 1), recs[3].path:sub(#cg - #V2 + 1) })
    assert.equal(1, recs[1].nr_procs)
    assert.has_error(function() bpfiter.open(path, { root = V2 }) end,
      "bad argument #2 to 'open' (option 'root' is fixed when the view is pinned)")
    assert.has_error(function() bpfiter.open(path, { order = "pre" }) end,
      "bad argument #2 to 'open' (option 'order' is fixed when the view is pinned)")
  end)

  it("refuses to let nobody pin a view", function()
    local path = fs .. "/nobody-pin"
    finally(function() if lfs.symlinkattributes(path) then os.remove(path) end end)
    local out, code = H.run(("%s lua5.4 -e 'local ok, msg, errno = require(\"bpfiter\").pin(\"tasks\", %q) " ..
      "io.write(tostring(ok), \"|\", msg, \"|\", errno)'"):format(NOBODY, path))
    assert.equal(0, code, out)
    local ok, msg = out:match("^(.-)|(.-)|%d+$")
    assert.equal("nil", ok, out)
    assert.matches("needs root, or CAP_BPF and CAP_PERFMON", msg)
    assert.is_nil(lfs.symlinkattributes(path))
  end)

  it("refuses a regular file, garbage, a directory, and pins other tools made", function()
    local text, junk, empty = dir .. "/text", dir .. "/junk", dir .. "/empty"
    H.write_file(text, ("hello, world\n"):rep(10))
    local f = assert(io.open("/dev/urandom", "rb"))
    H.write_file(junk, f:read(4096))
    f:close()
    H.write_file(empty, "")
    -- why: a Lua pattern for the reason after "open: PATH: "
    local function refused(path, why, want_errno)
      local step, msg, errno = bpfiter.open(path)
      assert.is_nil(step, path)
      assert.equal(want_errno or EPROTO, errno, msg)
      assert.matches("^open: " .. path:gsub("%p", "%%%0") .. ": " .. why .. "$", msg)
    end
    refused(text, "not a bpfiter stream %(no header%): Protocol error")
    refused(empty, "not a bpfiter view %(too short%): Protocol error")
    -- 4 KiB of random bytes: the odds of a valid header are nil
    refused(junk, "not a bpfiter stream %(no header%): Protocol error")
    refused(dir, "reading the view failed: Is a directory", EISDIR)
    refused(dir .. "/none", "No such file or directory", ENOENT)

    -- `bpftool iter pin` of a program printing text, and of one writing a
    -- bpfiter-like header with records of another size (another build).
    local other, foreign = pin_path("text"), pin_path("foreign")
    for _, p in ipairs { { other, "text_iter" }, { foreign, "foreign_view" } } do
      local out, code = H.run(("bpftool iter pin %s/spec-%s.bpf.o %s"):format(H.build, p[2], p[1]))
      assert.equal(0, code, out)
    end
    assert.matches("^%d+ ", H.read_file(other))  -- it is a working iterator
    refused(other, "not a bpfiter stream %(no header%): Protocol error")
    refused(foreign, "tasks records of 1234 bytes, this build reads %d+: Protocol error")
  end)

  it("pins only on bpffs, saying how to mount it, and unpins only bpffs files", function()
    local outside = dir .. "/not-bpffs"
    local ok, msg, errno = bpfiter.pin("tasks", outside)
    assert.is_nil(ok)
    assert.equal(("pin: %s is not on a bpffs mount (mount one first, e.g. " ..
      "'mount -t bpf bpf /sys/fs/bpf'): Operation not supported"):format(outside), msg)
    assert.equal(ENOTSUP, errno)
    assert.is_nil(lfs.symlinkattributes(outside))
    H.write_file(outside, "x")
    ok, msg, errno = bpfiter.unpin(outside)
    assert.is_nil(ok)
    assert.equal(EINVAL, errno, msg)
    assert.is_not_nil(lfs.attributes(outside))  -- left alone

    local path = pin_path("unpinned")
    assert(bpfiter.pin("cgroups", path, { root = cg }))
    assert.is_true(bpfiter.unpin(path))
    assert.is_nil(lfs.symlinkattributes(path))
    ok, msg, errno = bpfiter.unpin(path)
    assert.is_nil(ok)
    assert.equal(ENOENT, errno, msg)
  end)

  it("checks a view's options and mode when pinning", function()
    local path = pin_path("checked")
    assert.has_error(function() bpfiter.pin("tasks", path, { threads = false }) end,
      "bad argument #3 to 'pin' (option 'threads' filters records when reading: pass it to bpfiter.open)")
    assert.has_error(function() bpfiter.pin("tasks", path, nil, "0999") end,
      "bad argument #4 to 'pin' (mode must be an octal string like \"0640\" or an integer up to 511)")
    assert.has_error(function() bpfiter.pin("nothing", path) end,
      "bad argument #1 to 'pin' (unknown target 'nothing')")
    assert.has_error(function() bpfiter.pin("cgroups", path, { order = "sideways" }) end)
    local ok, msg, errno = bpfiter.pin("cgroups", path, { root = cg .. "/none" })
    assert.is_nil(ok)
    assert.equal(ENOENT, errno, msg)
    assert.is_nil(lfs.symlinkattributes(path))
  end)
end)
