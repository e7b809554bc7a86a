-- Pinned views: bpfiter.pin / open / unpin on a bpffs this spec mounts in a
-- temporary directory. User nobody (setpriv, no capabilities) reads views
-- by their file mode alone and gets the live iterator's records; views keep
-- the options they were pinned with; open() refuses what is not a view.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local EACCES, ENOENT, EINVAL, EISDIR, EPROTO, ENOTSUP = 13, 2, 22, 21, 71, 95
local EEXIST, EBUSY, ELOOP, ENAMETOOLONG = 17, 16, 40, 36
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

-- The fields where two sorted line lists differ ("" when they agree):
-- a failing comparison names them instead of printing whole records.
local function differing(a, b)
  local out = {}
  for i = 1, math.max(#a, #b) do
    local fa, fb = {}, {}
    for k, v in (a[i] or ""):gmatch("([^\t=]+)=([^\t]*)") do fa[k] = v end
    for k, v in (b[i] or ""):gmatch("([^\t=]+)=([^\t]*)") do fb[k] = v end
    for k, v in pairs(fa) do
      if fb[k] ~= v then out[#out + 1] = ("%d.%s: %s vs %s"):format(i, k, v, tostring(fb[k])) end
    end
  end
  table.sort(out)
  return table.concat(out, "; ")
end

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
  local dir, fs, fx
  local V2 = H.cgroup2_mount()
  local cg = V2 .. ("/bpfiter-spec-views-%d"):format(PID)
  local origin

  setup(function()
    dir, fs = H.private_bpffs()
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
    H.drop_private_bpffs(dir, fs)
  end)

  -- A pin removed at the end of the test, whatever happens.
  local function pin_path(name)
    local path = fs .. "/" .. name
    finally(function()
      if lfs.symlinkattributes(path) then bpfiter.unpin(path, { force = true }) end
    end)
    return path
  end

  it("lets nobody read a 0644 tasks view: the same records as the live iterator", function()
    local path = pin_path("tasks-644")
    assert.is_true(assert(bpfiter.pin("tasks", path, { pid = fx.pid }, "0644")))
    assert.equal("rw-r--r--", lfs.attributes(path, "permissions"))
    local live = lines(bpfiter.tasks { pid = fx.pid })
    assert.equal(3, #live)
    local theirs = read_as_nobody(path)
    assert.same(live, theirs, differing(live, theirs))
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
    local theirs = read_as_nobody(path)
    assert.same(live, theirs, differing(live, theirs))
    local recs = H.collect(bpfiter.open(path))
    assert.same({ "/c1", "/c2", "" }, {
      recs[1].path:sub(#cg - #V2 + 1), recs[2].path:sub(#cg - #V2 + 1), recs[3].path:sub(#cg - #V2 + 1) })
    assert.equal(H.task_count(1), recs[1].nr_procs)
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
    ok, msg, errno = bpfiter.unpin(outside, { force = true })
    assert.is_nil(ok)
    assert.equal(EINVAL, errno, msg)
    assert.is_not_nil(lfs.attributes(outside))  -- left alone, force or not

    local path = pin_path("unpinned")
    assert(bpfiter.pin("cgroups", path, { root = cg }))
    assert.is_true(bpfiter.unpin(path))
    assert.is_nil(lfs.symlinkattributes(path))
    ok, msg, errno = bpfiter.unpin(path)
    assert.is_nil(ok)
    assert.equal(ENOENT, errno, msg)
  end)

  it("gives the real cause when the pin's directory is missing or the path too long", function()
    local missing = fs .. "/no-such-dir/view"
    local ok, msg, errno = bpfiter.pin("tasks", missing)
    assert.is_nil(ok)
    assert.equal(("pin: %s: its directory: No such file or directory"):format(missing), msg)
    assert.equal(ENOENT, errno)
    local long = fs .. "/" .. ("x"):rep(300)  -- NAME_MAX is 255
    ok, msg, errno = bpfiter.pin("tasks", long)
    assert.is_nil(ok)
    assert.equal(ENAMETOOLONG, errno, msg)
    assert.matches("File name too long$", msg)
    local deep = fs .. ("/d"):rep(2100)  -- beyond PATH_MAX
    ok, msg, errno = bpfiter.pin("tasks", deep)
    assert.is_nil(ok)
    assert.equal(ENAMETOOLONG, errno, msg)
    ok, msg, errno = bpfiter.pin("tasks", fs .. "/")
    assert.is_nil(ok)
    assert.equal(EISDIR, errno, msg)
    ok, msg, errno = bpfiter.unpin(missing)
    assert.is_nil(ok)
    assert.equal(ENOENT, errno, msg)
  end)

  it("rejects modes and paths with embedded NUL bytes", function()
    local path = pin_path("nul")
    local function nul(arg, fname, fn)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.matches(("bad argument #%d to '%s' %%(must not contain NUL bytes"):format(arg, fname), err)
    end
    nul(4, "pin", function() bpfiter.pin("tasks", path, nil, "0640\0junk") end)
    for _, m in ipairs { "", " 0640", "-0", "0640 ", "0x1a0" } do
      assert.has_error(function() bpfiter.pin("tasks", path, nil, m) end,
        "bad argument #4 to 'pin' (mode must be an octal string like \"0640\" or an integer up to 511)")
    end
    nul(2, "pin", function() bpfiter.pin("tasks", path .. "\0x") end)
    nul(1, "unpin", function() bpfiter.unpin(path .. "\0x") end)
    assert.has_error(function() bpfiter.unpin(path, { forced = true }) end,
      "bad argument #2 to 'unpin' (unknown option 'forced' for unpin (only 'force'))")
    assert.has_error(function() bpfiter.unpin(path, { force = 1 }) end,
      "bad argument #2 to 'unpin' (option 'force' must be a boolean, got number)")
    assert.is_nil(lfs.symlinkattributes(path))
  end)

  it("never follows a symlink: pinning over one fails, unpin removes it only with force", function()
    local victim = dir .. "/victim"
    H.write_file(victim, "secret")
    assert(os.execute("chmod 0600 " .. victim))
    local link = pin_path("link")
    assert(lfs.link(victim, link, true))
    local ok, msg, errno = bpfiter.pin("tasks", link, { pid = fx.pid }, "0666")
    assert.is_nil(ok)
    assert.equal(EEXIST, errno, msg)
    ok, msg, errno = bpfiter.unpin(link)
    assert.is_nil(ok)
    assert.equal(("unpin: %s is a symbolic link; unpin does not follow it " ..
      "(force = true, or --force, removes the link itself): Too many levels of symbolic links"):format(link), msg)
    assert.equal(ELOOP, errno)
    -- a symlink to a real view: still not followed
    local view = pin_path("linked-view")
    assert(bpfiter.pin("tasks", view, { pid = fx.pid }))
    local link2 = pin_path("link2")
    assert(lfs.link(view, link2, true))
    ok, msg, errno = bpfiter.unpin(link2)
    assert.is_nil(ok)
    assert.equal(ELOOP, errno, msg)
    assert.is_true(bpfiter.unpin(link2, { force = true }))
    assert.is_nil(lfs.symlinkattributes(link2))
    assert.equal("file", lfs.attributes(view, "mode"))  -- the view stays
    assert.is_true(bpfiter.unpin(link, { force = true }))
    assert.is_nil(lfs.symlinkattributes(link))
    assert.equal("secret", H.read_file(victim))
    assert.equal("rw-------", lfs.attributes(victim, "permissions"))
  end)

  it("unpins bpfiter views only: other pins and directories need force or are refused", function()
    local other, map, sub = pin_path("other-iter"), pin_path("a-map"), fs .. "/a-dir"
    local out, code = H.run(("bpftool iter pin %s/spec-text_iter.bpf.o %s"):format(H.build, other))
    assert.equal(0, code, out)
    out, code = H.run(("bpftool map create %s type array key 4 value 8 entries 1 name spec%d"):format(map, PID))
    assert.equal(0, code, out)
    assert(lfs.mkdir(sub))
    finally(function() lfs.rmdir(sub) end)
    for _, p in ipairs { other, map } do
      local ok, msg, errno = bpfiter.unpin(p)
      assert.is_nil(ok)
      assert.equal(("unpin: %s is not a bpfiter view (a pinned map, program or another " ..
        "tool's link; force = true, or --force, removes it anyway): Protocol error"):format(p), msg)
      assert.equal(EPROTO, errno)
      assert.equal("file", lfs.attributes(p, "mode"))
      assert.is_true(bpfiter.unpin(p, { force = true }))
      assert.is_nil(lfs.symlinkattributes(p))
    end
    local ok, msg, errno = bpfiter.unpin(sub, { force = true })
    assert.is_nil(ok)
    assert.equal(EISDIR, errno, msg)
    assert.equal("directory", lfs.attributes(sub, "mode"))
    -- a view whose process is gone is still a view (its stream is a trailer)
    local sleeper = H.fixture("threads", 0, "goneview")
    local gone = pin_path("gone")
    assert(bpfiter.pin("tasks", gone, { pid = sleeper.pid }))
    sleeper.stop()
    assert.is_true(bpfiter.unpin(gone))
  end)

  it("sets a pin's mode without following a name another user can swap", function()
    -- The owner of the pin's directory swaps a symlink to a root-only file
    -- in for the fresh pin. spec/swap_shim.so.c does the swap in the
    -- pinning process itself, right before it sets the mode (SWAP_AT=chmod)
    -- or right before it looks at the pin again (SWAP_AT=open), so the race
    -- is hit every time: the old pin() (chmod by name) made the victim
    -- 0666 here.
    local victim = dir .. "/victim2"
    H.write_file(victim, "secret")
    assert(os.execute("chmod 0600 " .. victim))
    local script = dir .. "/pin-once.lua"
    H.write_file(script, [[
local ok, msg, errno = require("bpfiter").pin("tasks", arg[1], { pid = tonumber(arg[2]) }, "0666")
io.write(tostring(ok), "|", tostring(msg), "|", tostring(errno))
]])
    -- chmod: the mode goes to our pin, now unlinked, as if the swap came
    -- just after pin() returned; open: the entry is no longer our link,
    -- so nothing is changed and pin() says so.
    local want = {
      chmod = "true|nil|nil",
      open = "nil|pin: %s was replaced while pinning; its mode was not set: " ..
        "Device or resource busy|" .. EBUSY,
    }
    for _, at in ipairs { "chmod", "open" } do
      local view, link = pin_path("swapped-" .. at), pin_path("swap-link-" .. at)
      assert(lfs.link(victim, link, true))
      local out, code = H.run(("SWAP_AT=%s SWAP_LINK=%s SWAP_NAME=%s LD_PRELOAD=\"$LD_PRELOAD %s/swap_shim.so\" " ..
        "lua5.4 %s %s %d"):format(at, link, view, H.build, script, view, fx.pid))
      assert.equal(0, code, out)
      assert.equal("rw-------", lfs.attributes(victim, "permissions"))
      assert.equal("secret", H.read_file(victim))
      assert.is_nil(lfs.symlinkattributes(link))          -- the swap happened
      assert.equal("link", lfs.symlinkattributes(view, "mode"))  -- and stays
      assert.equal(want[at]:format(view), out)
    end
    -- without a swap the shim changes nothing: the pin gets its mode
    local view = pin_path("not-swapped")
    local out, code = H.run(("SWAP_AT=chmod SWAP_LINK=%s/none SWAP_NAME=%s LD_PRELOAD=\"$LD_PRELOAD %s/swap_shim.so\" " ..
      "lua5.4 %s %s %d"):format(dir, view, H.build, script, view, fx.pid))
    assert.equal(0, code, out)
    assert.equal("true|nil|nil", out)
    assert.equal("rw-rw-rw-", lfs.attributes(view, "permissions"))
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
