-- Reduced privileges: every target, both collectors, pin and open of a view
-- run under root; CAP_BPF+CAP_PERFMON; CAP_BPF+CAP_PERFMON+CAP_SYSLOG;
-- CAP_SYS_ADMIN only; no capabilities (uid 65534 but for root, through
-- setpriv), each set in ONE child process (spec/privileges_probe.lua) with
-- a timeout. Every probe either works or fails with EPERM and a message
-- naming what is missing, within seconds: never a hang, crash or silent
-- wrong answer. The expected matrix below is the one README's Security
-- section documents. Also: walks whose program keeps asking for the same
-- object again end with an error instead of spinning.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local lfs = require "lfs"
local H = require "helper"

local EPERM, EAGAIN, ENOTSUP = 1, 11, 95
local PID = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
local NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "

-- Privilege sets: what setpriv keeps, and which capabilities that gives.
local SETS = {
  { name = "root", prefix = "", has = { root = true } },
  { name = "CAP_BPF+CAP_PERFMON", caps = "bpf,+perfmon", has = { bpf = true } },
  { name = "CAP_BPF+CAP_PERFMON+CAP_SYSLOG", caps = "bpf,+perfmon,+syslog", has = { bpf = true, syslog = true } },
  -- CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, not CAP_SYSLOG
  { name = "CAP_SYS_ADMIN", caps = "sys_admin", has = { bpf = true, sys_admin = true } },
  { name = "no capabilities", prefix = NOBODY .. "--inh-caps=-all --bounding-set=-all ", has = {} },
}
for _, s in ipairs(SETS) do
  if s.caps then
    s.prefix = NOBODY .. ("--inh-caps=-all,+%s --ambient-caps=-all,+%s --bounding-set=-all,+%s ")
      :format(s.caps, s.caps, s.caps)
  end
end

-- What each probe needs. bpf: CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN);
-- syslog: also CAP_SYSLOG, because the program compares with an address
-- from /proc/kallsyms (vmas; cached_files{scope = "open"} walks vmas); sys_admin: a map id (the kernel's BPF_MAP_GET_FD_BY_ID); none:
-- reading a view.
local NEEDS = {
  tasks = "bpf", files = "bpf", vmas = "syslog", tcp = "bpf", udp = "bpf", unix = "bpf",
  netlink = "bpf", bpf_progs = "bpf", bpf_maps = "bpf", bpf_links = "bpf",
  ["map_elems(id)"] = "sys_admin", ["map_elems(path)"] = "bpf", ksyms = "bpf",
  kmem_caches = "bpf", dmabufs = "bpf", cgroups = "bpf", epoll = "bpf",
  pagecache = "bpf", cached_files = "syslog", cpu_wait = "bpf", cache_activity = "bpf",
  pin = "bpf", open = "none",
}
local HINT = {
  bpf = "needs root, or CAP_BPF and CAP_PERFMON",
  syslog = "needs root, or CAP_BPF, CAP_PERFMON and CAP_SYSLOG",
  sys_admin = "a map id needs root or CAP_SYS_ADMIN",
}

local function allowed(has, need)
  if has.root or need == "none" then return true end
  if need == "sys_admin" then return has.sys_admin end
  return has.bpf and (need == "bpf" or has.syslog)
end

describe("privileges", function()
  local dir, fs, fx, map, map_id, view, cgroup

  setup(function()
    dir, fs = H.private_bpffs()
    assert(lfs.mkdir(fs .. "/pins"))
    assert(os.execute("chmod 1777 " .. fs .. "/pins"))
    map = fs .. "/map"
    local out, code = H.run(("bpftool map create %s type array key 4 value 8 entries 2 name spec%d")
      :format(map, PID))
    assert.equal(0, code, out)
    assert(os.execute("chmod 0666 " .. map))
    map_id = math.tointeger(cjson.decode((H.run("bpftool -j map show pinned " .. map))).id)
    fx = H.fixture("threads", 2, "privspec")
    view = fs .. "/view"
    assert(bpfiter.pin("tasks", view, { pid = fx.pid }, "0644"))
    cgroup = (H.cgroup2_mount() .. H.read_file("/proc/self/cgroup"):match("\n?0::([^\n]*)")):gsub("/$", "")
  end)

  teardown(function()
    if fx then fx.stop() end
    H.drop_private_bpffs(dir, fs)
  end)

  -- The probe's lines for one set: {name = {status =, value =, secs =, msg =}}.
  local function run_set(set)
    local t0 = os.time()
    local out, code = H.run(("timeout 60 %slua5.4 spec/privileges_probe.lua %s %s %d %s %s")
      :format(set.prefix, view, map, map_id, fs .. "/pins", cgroup))
    local results = {}
    for name, status, value, secs, rest in out:gmatch("([^\t\n]+)\t(%a+)\t([^\t\n]*)\t([%d.]+)\t([^\n]*)") do
      results[name] = { status = status, value = tonumber(value), secs = tonumber(secs), msg = rest }
    end
    return results, code, out, os.time() - t0
  end

  for _, set in ipairs(SETS) do
    it("under " .. set.name .. ": every probe works or fails with EPERM and a hint, within seconds", function()
      local results, code, out, wall = run_set(set)
      assert.are_not.equal(124, code, "the probe timed out:\n" .. out)  -- a hang
      assert.equal(0, code, out)
      assert.is_true(wall <= 30, "took " .. wall .. " s")
      for name, need in pairs(NEEDS) do
        local r = results[name]
        assert.is_not_nil(r, name .. " did not report:\n" .. out)
        assert.is_true(r.secs < 5, name .. " took " .. r.secs .. " s of CPU")
        local target = name:match("^[%w_]+")
        if bpfiter.fields[target] ~= nil and not bpfiter.available(target) then
          -- this kernel lacks it (spec 14); without privilege EPERM comes first
          assert.equal("fail", r.status, name .. ": " .. r.msg)
          assert.is_true(r.value == ENOTSUP or (r.value == EPERM and not allowed(set.has, need)),
            name .. ": " .. r.msg)
        elseif allowed(set.has, need) then
          assert.equal("ok", r.status, name .. ": " .. r.msg)
        else
          assert.equal("fail", r.status, name .. ": " .. r.msg)
          assert.equal(EPERM, r.value, name .. ": " .. r.msg)
          -- without CAP_BPF the first thing missing is CAP_BPF
          local hint = (set.has.bpf or need == "sys_admin") and HINT[need] or "needs root, or CAP_BPF"
          assert.is_truthy(r.msg:find(hint, 1, true), name .. ": " .. r.msg)
        end
      end
      -- the records are the ones asked for, whoever reads
      assert.equal(3, results.open.value)  -- the fixture's 3 threads
      assert.equal(1, results.tasks.value)
      if results.pin.status == "ok" then assert.equal(1, results.pin.value) end
      if results["map_elems(path)"].status == "ok" then assert.equal(2, results["map_elems(path)"].value) end
      -- without CAP_SYSLOG the kernel hides symbol addresses from the
      -- program as /proc/kallsyms hides them: ksyms says 0 (documented)
      if results.ksyms.status == "ok" then
        local hidden = not (set.has.root or set.has.syslog)
        assert.equal(hidden and "zero addresses" or "", results.ksyms.msg)
      end
    end)
  end

  it("the CLI's epoll walk with CAP_BPF+CAP_PERFMON lists this set's item at once (it spun before)", function()
    -- an epoll fixture watching a pipe: its item must be found without
    -- CAP_SYSLOG (the program once compared with a kallsyms address)
    if not bpfiter.available("epoll") then return H.enotsup("epoll")() end
    local efx = H.spawn("epoll_fixture", "sets", "1")
    finally(efx.stop)
    local out, code = H.run(("timeout 20 %sbin/bpfiter epoll --pid %d --csv --fields pid,tfd"):format(
      SETS[2].prefix, efx.pid))
    assert.equal(0, code, out)
    assert.matches("^pid,tfd\n" .. efx.pid .. ",%d+\n$", out)
  end)

  describe("walks whose program asks for the same object again", function()
    local function pin_fixture(name)
      local path = ("%s/%s-%d"):format(fs, name, PID)
      local out, code = H.run(("bpftool iter pin %s/spec-%s.bpf.o %s"):format(H.build, name, path))
      assert.equal(0, code, out)
      finally(function() bpfiter.unpin(path, { force = true }) end)
      return path
    end

    local function read_all(path)
      local t0 = os.time()
      local step, it = assert(bpfiter.open(path))
      local ok, err = pcall(function() for _ in step, it do end end)
      return ok, err, os.time() - t0
    end

    it("end with EAGAIN when it never stops asking (a hostile or broken view)", function()
      local ok, err, secs = read_all(pin_fixture("reshow_view"))
      assert.is_false(ok)
      assert.matches("tasks: reading the iterator failed %(the kernel program kept asking to see the " ..
        "same object again without producing anything%): Resource temporarily unavailable", err)
      assert.is_true(secs <= 10, secs .. " s")
    end)

    it("raise the reason when the program gives up on an object (our programs' bound)", function()
      local ok, err = read_all(pin_fixture("gave_up_view"))
      assert.is_false(ok)
      assert.matches("tasks: the kernel program gave up on an object it had to show again too " ..
        "often %(its kernel state kept changing%): Resource temporarily unavailable", err)
      assert.is_not_nil(EAGAIN)
    end)
  end)
end)
