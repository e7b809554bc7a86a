-- Shared by the specs and benchmarks: spawn ground-truth fixtures, read the
-- kernel's own answers from /proc, count fds and BPF links.
local lfs = require "lfs"

local H = {}

H.build = os.getenv("BPFITER_BUILD") or "build"

function H.sleep(seconds)
  os.execute(("sleep %.3f"):format(seconds))
end

function H.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Seconds since boot, to 10 ms (/proc/uptime): for elapsed times.
function H.now()
  return tonumber(H.read_file("/proc/uptime"):match("^[%d.]+"))
end

function H.mktemp_dir()
  local p = io.popen("env -u LD_PRELOAD mktemp -d /tmp/bpfiter-spec.XXXXXX")
  local dir = p:read("l")
  p:close()
  return dir
end

function H.rm_rf(path)
  if path and path:match("^/tmp/bpfiter") then os.execute("rm -rf '" .. path .. "'") end
end

--- A private bpffs mounted at DIR/fs in a new temporary DIR: {dir =, fs =,
-- remove = function} (remove unmounts, dropping every pin, and deletes DIR).
function H.bpffs()
  -- no dot in the path: libbpf turns dots in pin paths into underscores
  local p = io.popen("env -u LD_PRELOAD mktemp -d /tmp/bpfiter-bpffs-XXXXXX")
  local b = { dir = p:read("l") }
  p:close()
  b.fs = b.dir .. "/fs"
  function b.remove()
    os.execute(("umount '%s' 2>/dev/null"):format(b.fs))
    H.rm_rf(b.dir)
  end
  -- 0755 and mode=0755: readers without privileges (specs 15, 21) reach it
  assert(os.execute(("chmod 0755 '%s'"):format(b.dir)))
  assert(lfs.mkdir(b.fs))
  if not os.execute(("mount -t bpf -o mode=0755 bpf '%s'"):format(b.fs)) then
    b.remove()
    error("mounting a bpffs at " .. b.fs)
  end
  return b
end

--- Starts `build/PROGRAM ARGS... READY` (a spec/PROGRAM.c fixture) and waits
-- until it wrote READY.
-- Returns {pid=, info={key={values...}}, dir=, stop=function}. The fixture
-- exits when stop() closes its stdin (or when this process dies).
function H.spawn(program, ...)
  local dir = H.mktemp_dir()
  local ready = dir .. "/ready"
  local args = { ... }
  for i, a in ipairs(args) do args[i] = a == "$DIR" and dir or tostring(a) end
  -- LD_PRELOAD (make asan) would put ASan in the fixture and change its heap.
  -- Its own stdout/stderr files: inheriting ours would share a file offset
  -- that moves whenever busted prints, under the specs that compare fds.
  local cmd = ("exec env -u LD_PRELOAD %s/%s %s %s >%s/stdout 2>%s/stderr"):format(
    H.build, program, table.concat(args, " "), ready, dir, dir)
  local pipe = assert(io.popen(cmd, "w"))
  local text
  for _ = 1, 3000 do
    text = H.read_file(ready)
    if text then break end
    H.sleep(0.01)
  end
  assert(text, "fixture did not start: " .. cmd .. "\n" .. (H.read_file(dir .. "/stderr") or ""))
  local info = {}
  for line in text:gmatch("[^\n]+") do
    local key, rest = line:match("^(%S+)%s+(.*)$")
    info[key] = rest
  end
  local fx = { pid = tonumber(info.pid), info = info, dir = dir }
  function fx.stop()
    if pipe then pipe:close(); pipe = nil end
    H.rm_rf(dir)
  end
  return fx
end

--- For the spec files of target NAME: whether it works on the running
-- kernel (an older one may lack what it needs, README "Kernels"). Where it
-- does not, the file runs only H.enotsup(NAME), its other specs being for
-- kernels that have the target:
--   if not H.available("epoll") then
--     describe("epoll", function() it("returns ENOTSUP here", H.enotsup("epoll")) end)
--     return
--   end
function H.available(name)
  return (require "bpfiter").available(name)
end

--- A spec body: target NAME returns ENOTSUP, naming the kernel it needs.
function H.enotsup(name)
  return function()
    local luassert = require "luassert"
    local bpfiter = require "bpfiter"
    local ok, reason = bpfiter.available(name)
    luassert.is_false(ok)
    luassert.matches("^needs kernel >= %d+%.%d+ %(.+%)", reason)
    local f, msg, errno = bpfiter[name]({})
    luassert.is_nil(f)
    luassert.equal(name .. ": " .. reason .. ": Operation not supported", msg)
    luassert.equal(95, errno) -- ENOTSUP
  end
end

--- Whether the running kernel's BTF has function NAME (a kfunc), as
-- bpftool dumps it.
function H.kernel_function(name)
  return H.run("bpftool btf dump file /sys/kernel/btf/vmlinux"):find("FUNC '" .. name .. "'", 1, true) ~= nil
end

--- Whether the CPU is QEMU's emulated one (vm-check under TCG): the same
-- kernel code runs about 10x slower there.
function H.emulated()
  if H.is_emulated == nil then
    H.is_emulated = (H.read_file("/proc/cpuinfo") or ""):find("model name%s*: QEMU") ~= nil
  end
  return H.is_emulated
end

--- n, or a tenth of it under emulation: the scale specs' counts (tens of
-- thousands of sockets or threads take most of an hour under TCG; a
-- tenth still spans many reads and resumes of every walk).
function H.scaled(n)
  return H.emulated() and n // 10 or n
end

--- Whether tasks records carry cmdline here: its sleepable program needs
-- bpf_rcu_read_lock (6.2+; csrc/targets/tasks.c picks the program).
function H.has_cmdline()
  if H.cmdline_kernel == nil then H.cmdline_kernel = H.kernel_function("bpf_rcu_read_lock") end
  return H.cmdline_kernel
end

--- Whether the running kernel's struct NAME has member MEMBER (BTF).
function H.struct_has(name, member)
  local raw = H.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw")
  local body = raw:match("STRUCT '" .. name .. "' size=%d+ vlen=%d+\n(.-)\n%[") or ""
  return body:find("'" .. member .. "'", 1, true) ~= nil
end

--- n, or nil on kernels whose cgroups walk cannot count tasks (no css_task
-- kfuncs before 6.7: nr_tasks and nr_procs are nil there).
function H.task_count(n)
  if H.counts_tasks == nil then H.counts_tasks = H.kernel_function("bpf_iter_css_task_new") end
  return H.counts_tasks and n or nil
end

--- `build/fixture MODE ARGS... READY` (spec/fixture.c), as H.spawn.
function H.fixture(mode, ...)
  return H.spawn("fixture", mode, ...)
end

--- Fields of /proc/PID/task/TID/stat (or /proc/PID/stat), 1-based as in
-- proc(5); field 2 (comm) is returned without parentheses.
function H.proc_stat(pid, tid)
  local path = tid and ("/proc/%d/task/%d/stat"):format(pid, tid) or ("/proc/%d/stat"):format(pid)
  local s = H.read_file(path)
  if not s then return nil end
  local pid_s, comm, rest = s:match("^(%d+) %((.*)%) (.*)$")
  local f = { tonumber(pid_s), comm }
  for w in rest:gmatch("%S+") do f[#f + 1] = tonumber(w) or w end
  return f
end

--- /proc/PID/status as a table of "Key" -> "value" strings.
function H.proc_status(pid)
  local s = H.read_file(("/proc/%d/status"):format(pid))
  local t = {}
  for k, v in s:gmatch("([%w_]+):%s*([^\n]*)") do t[k] = v end
  return t
end

--- Thread ids of a process from /proc/PID/task.
function H.proc_tids(pid)
  local tids = {}
  for e in lfs.dir(("/proc/%d/task"):format(pid)) do
    if e:match("^%d+$") then tids[#tids + 1] = tonumber(e) end
  end
  table.sort(tids)
  return tids
end

--- /proc/PID/fd as fd -> {path=readlink target, ...fdinfo fields}.
function H.proc_fds(pid)
  local fds = {}
  for e in lfs.dir(("/proc/%d/fd"):format(pid)) do
    if e:match("^%d+$") then
      local a = lfs.symlinkattributes(("/proc/%d/fd/%s"):format(pid, e))
      local info = H.read_file(("/proc/%d/fdinfo/%s"):format(pid, e)) or ""
      fds[tonumber(e)] = {
        path = a and a.target,
        pos = tonumber(info:match("pos:%s*(%d+)")),
        flags = tonumber(info:match("flags:%s*(%d+)"), 8),
        mnt_id = tonumber(info:match("mnt_id:%s*(%d+)")),
        ino = tonumber(info:match("ino:%s*(%d+)")),
      }
    end
  end
  return fds
end

--- /proc/PID/maps lines as records shaped like bpfiter.vmas records.
function H.proc_maps(pid)
  local out = {}
  for line in (H.read_file(("/proc/%d/maps"):format(pid)) or ""):gmatch("[^\n]+") do
    local s, e, perms, off, maj, min, ino, path =
      line:match("^(%x+)-(%x+) (%S+) (%x+) (%x+):(%x+) (%d+)%s*(.*)$")
    out[#out + 1] = {
      start = tonumber(s, 16), ["end"] = tonumber(e, 16), perms = perms,
      offset = tonumber(off, 16), major = tonumber(maj, 16), minor = tonumber(min, 16),
      inode = tonumber(ino), path = path ~= "" and path or nil,
    }
  end
  return out
end

--- This process's open fds, or only those whose /proc/self/fd link reads
-- `target` (e.g. "anon_inode:bpf_link").
function H.fd_count(target)
  local n = 0
  for e in lfs.dir("/proc/self/fd") do
    if e:match("^%d+$") and (not target or
        (lfs.symlinkattributes("/proc/self/fd/" .. e) or {}).target == target) then
      n = n + 1
    end
  end
  return n
end

--- This process's bpf_link fds: a collector holds one per attached program.
function H.link_fds() return H.fd_count("anon_inode:bpf_link") end

--- A collector's life, for the specs of bpfiter.NAME: open() attaches
-- `links` programs (as count() counts them); close(), twice, detaches
-- them, and so do the end of a <close> block and garbage collection; a
-- closed one says so and c[method](c) raises.
function H.check_collector_life(name, open, count, links, method)
  local assert = require "luassert"
  local base = count()
  local c = assert(open())
  assert.equal(base + links, count())
  assert.matches("^bpfiter." .. name .. ": collecting$", tostring(c))
  c:close()
  c:close() -- twice is fine
  assert.equal(base, count())
  assert.matches("^bpfiter." .. name .. ": closed$", tostring(c))
  assert.has_error(function() c[method](c) end, "bpfiter: " .. name .. ": collector is closed")
  do
    local _ <close> = assert(open())
    assert.equal(base + links, count())
  end
  assert.equal(base, count())
  c = assert(open())
  assert.equal(base + links, count())
  c = nil
  collectgarbage()
  collectgarbage()
  assert.equal(base, count())
end

--- BPF links (as bpftool lists them) whose program this process loaded:
-- the program ids come from /proc/self/fdinfo of its bpf-prog fds, so
-- links of other processes coming and going do not count.
function H.bpf_link_count()
  local progs = {}
  for e in lfs.dir("/proc/self/fd") do
    local info = e:match("^%d+$") and H.read_file("/proc/self/fdinfo/" .. e)
    local id = info and info:match("prog_id:%s*(%d+)")
    if id and (lfs.symlinkattributes("/proc/self/fd/" .. e).target or ""):match("bpf%-prog") then
      progs[tonumber(id)] = true
    end
  end
  local p = io.popen("bpftool link list -j 2>/dev/null")
  local out = p:read("a")
  p:close()
  local n = 0
  for id in out:gmatch('"prog_id":(%d+)') do
    if progs[tonumber(id)] then n = n + 1 end
  end
  return n
end

--- All records of an iterator call that must succeed.
function H.collect(step, it, ...)
  assert(step, it)
  local out = {}
  for rec in step, it do out[#out + 1] = rec end
  return out
end

function H.by(list, key)
  local t = {}
  for _, r in ipairs(list) do t[r[key]] = r end
  return t
end

--- Writes value to path (a cgroup control file, say), raising on failure.
function H.write_file(path, value, mode)
  local f = assert(io.open(path, mode or "w"))
  local ok, err = f:write(tostring(value))
  local closed, cerr = f:close()
  assert(ok and closed, ("writing %s to %s: %s"):format(value, path, tostring(err or cerr)))
end

--- Where the cgroup v2 hierarchy's root is mounted (from mountinfo).
function H.cgroup2_mount()
  for line in H.read_file("/proc/self/mountinfo"):gmatch("[^\n]+") do
    local root, mnt, fstype = line:match("^%S+ %S+ %S+ (%S+) (%S+) .* %- (%S+) ")
    if fstype == "cgroup2" and root == "/" then return mnt end
  end
end

--- A private bpffs in a new temporary directory (0755, readable by
-- everyone): returns the directory and the mount point (H.bpffs), and
-- raises when it cannot mount. bpffs may not be mounted at /sys/fs/bpf.
function H.private_bpffs()
  local b = H.bpffs()
  return b.dir, b.fs
end

--- Undoes H.private_bpffs (nil: nothing mounted), dropping any pin left;
-- lazily when iterators still hold the mount.
function H.drop_private_bpffs(dir, fs)
  collectgarbage()  -- iterators still open on the mount close their fds
  collectgarbage()
  if fs and not os.execute("umount " .. fs .. " 2>/dev/null") then os.execute("umount -l " .. fs) end
  H.rm_rf(dir)
end

--- bin/bpfiter of this tree, however busted was started.
H.bin = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "../bin/bpfiter"

--- `bpfiter ARGS`: its stdout and exit status (stderr dropped).
function H.cli(args)
  return H.run(("{ %s %s 2>/dev/null; }"):format(H.bin, args))
end

--- `bpfiter ARGS`: its stderr and exit status (stdout dropped).
function H.cli_err(args)
  return H.run(("{ %s %s 2>&1 >/dev/null; }"):format(H.bin, args))
end

--- Run a shell command, return its stdout and exit status.
function H.run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

return H
