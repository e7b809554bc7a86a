-- bpfiter.ksyms, kmem_caches and dmabufs against the kernel's own text
-- tables: /proc/kallsyms, /proc/slabinfo (with /sys/kernel/slab) and the
-- dma_buf/bufinfo file of a debugfs this spec mounts in a temp dir.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

-- Tools run without LD_PRELOAD (make asan preloads ASan).
local function sh(cmd)
  return os.execute("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' >/dev/null 2>&1")
end

-- /proc/kallsyms as {address_hex, type, name, module} records.
local function kallsyms(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local addr, type, name, module = line:match("^(%x+) (%S) (%S+)\t?%[?([^%]]*)%]?$")
    out[#out + 1] = { address_hex = addr, type = type, name = name, module = module ~= "" and module or nil }
  end
  return out
end

local function ksym_key(r)
  return ("%s %s %s %s"):format(r.address_hex, r.type, r.name, r.module or "")
end

local function counted(list)
  local set = {}
  for _, r in ipairs(list) do
    local k = ksym_key(r)
    set[k] = (set[k] or 0) + 1
  end
  return set
end

describe("ksyms", function()
  local mine, before, after

  setup(function()
    before = kallsyms(assert(H.read_file("/proc/kallsyms")))
    mine = H.collect(bpfiter.ksyms())
    after = kallsyms(assert(H.read_file("/proc/kallsyms")))
  end)

  it("lists every vmlinux symbol of /proc/kallsyms with its address, type and name", function()
    local want, got = {}, {}
    for _, r in ipairs(before) do
      if not r.module then want[#want + 1] = r end
    end
    for _, r in ipairs(mine) do
      if not r.module then got[#got + 1] = r end
    end
    assert.is_true(#want > 1000)
    assert.equal(#want, #got)
    assert.same(counted(want), counted(got))
    -- in the same order
    for i = 1, #want, 997 do assert.equal(ksym_key(want[i]), ksym_key(got[i])) end
  end)

  it("lists the other symbols (bpf programs, ftrace trampolines) with their module", function()
    local b, a, m = counted(before), counted(after), counted(mine)
    local n = 0
    for _, r in ipairs(before) do
      local k = ksym_key(r)
      if r.module and a[k] then
        assert.is_true((m[k] or 0) >= math.min(b[k], a[k]), k)
        n = n + 1
      end
    end
    assert.is_true(n > 0)
    -- ours that neither read saw are programs loaded and gone meanwhile
    for _, r in ipairs(mine) do
      local k = ksym_key(r)
      if r.module and not b[k] and not a[k] then assert.equal("bpf", r.module, k) end
    end
    -- this walk's own program is a symbol of module bpf
    local own
    for _, r in ipairs(mine) do
      if r.module == "bpf" and r.name:match("^bpf_prog_%x+_dump_ksym$") then own = r end
    end
    assert.is_not_nil(own)
    assert.equal("t", own.type)
  end)

  it("gives addresses as integers (negative above 2^63) and as /proc/kallsyms' hex", function()
    for _, r in ipairs(mine) do
      assert.equal(r.address_hex, ("%016x"):format(r.address))
    end
    local sym
    for _, r in ipairs(mine) do
      if r.name == "schedule" and not r.module then sym = r end
    end
    assert.is_not_nil(sym)
    assert.is_true(sym.address < 0) -- above 2^63
    assert.equal(math.tointeger(tonumber(sym.address_hex:sub(1, 8), 16) << 32 | tonumber(sym.address_hex:sub(9), 16)),
      sym.address)
  end)

  it("shows the addresses a reader may see: zeros for an unprivileged reader of a pinned view", function()
    local dir = H.mktemp_dir()
    local fs = dir .. "/fs"
    finally(function()
      sh(("umount '%s'"):format(fs))
      H.rm_rf(dir)
    end)
    assert(lfs.mkdir(fs))
    assert(sh(("chmod 0755 '%s' && mount -t bpf -o mode=0755 bpf '%s'"):format(dir, fs)))
    assert(bpfiter.pin("ksyms", fs .. "/ksyms", nil, "0644"))
    local as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "
    local script = ("local b = require 'bpfiter' local n = 0 "
      .. "for r in assert(b.open('%s/ksyms')) do n = n + 1 if n > 50 then break end "
      .. "print(r.address_hex .. ' ' .. r.type .. ' ' .. r.name) end"):format(fs)
    local theirs = H.run(as_nobody .. "lua5.4 -e \"" .. script .. "\"")
    local proc = H.run("env -u LD_PRELOAD " .. as_nobody .. "head -50 /proc/kallsyms")
    assert.equal(proc, theirs)
    -- root (this process) sees real addresses through the same view
    local step, it = assert(bpfiter.open(fs .. "/ksyms"))
    local first = step(it)
    it:close()
    assert.equal(before[1].address_hex, first.address_hex)
    assert.matches("^0+$", theirs:match("^(%x+)"))
  end)
end)

-- /proc/slabinfo lines by cache name.
local function slabinfo()
  local t = {}
  for line in io.lines("/proc/slabinfo") do
    local name, act, num, objsize, per, pages, slabs = line:match(
      "^(%S+)%s+(%d+)%s+(%d+)%s+(%d+)%s+(%d+)%s+(%d+) : tunables%s+%d+%s+%d+%s+%d+ : slabdata%s+%d+%s+(%d+)")
    if name then
      t[name] = { active = tonumber(act), total = tonumber(num), objsize = tonumber(objsize),
        per_slab = tonumber(per), pages = tonumber(pages), slabs = tonumber(slabs) }
    end
  end
  return t
end

local function caches()
  local t = {}
  for r in bpfiter.kmem_caches() do t[r.name] = r end
  return t
end

-- on kernels that have the target, else its ENOTSUP (H.available)
if not H.available("kmem_caches") then
  describe("kmem_caches", function() it("returns ENOTSUP on this kernel", H.enotsup("kmem_caches")) end)
else describe("kmem_caches", function()
  it("lists the caches /proc/slabinfo lists", function()
    local before, mine, after = slabinfo(), caches(), slabinfo()
    local n = 0
    for name in pairs(before) do
      if after[name] then
        assert.is_not_nil(mine[name], name)
        n = n + 1
      end
    end
    for name in pairs(mine) do
      assert.is_true(before[name] ~= nil or after[name] ~= nil, name)
    end
    assert.is_true(n > 50)
    assert.is_not_nil(mine.kmem_cache)
    assert.is_not_nil(mine.task_struct)
  end)

  it("gives object size, slot size and slab geometry as slabinfo and /sys/kernel/slab", function()
    local info, mine = slabinfo(), caches()
    for name, s in pairs(info) do
      local r = mine[name]
      if r then
        assert.equal(s.objsize, r.slot_size, name)
        assert.equal(s.per_slab, r.objects_per_slab, name)
        assert.equal(s.pages, r.pages_per_slab, name)
        local sys = "/sys/kernel/slab/" .. name
        if lfs.attributes(sys .. "/object_size") then
          assert.equal(tonumber(H.read_file(sys .. "/object_size")), r.object_size, name)
          assert.equal(tonumber(H.read_file(sys .. "/align")), r.align, name)
        end
        assert.is_true(r.object_size <= r.slot_size, name)
      end
    end
    assert.equal(256, mine["kmalloc-256"].object_size)
  end)

  it("counts objects and slabs as slabinfo does, for a cache only this spec uses", function()
    local fx = H.spawn("slab_objects", 500)
    finally(function() fx.stop() end)
    -- The cache may still be releasing objects of an earlier run; compare
    -- once slabinfo reads the same on both sides of the walk.
    local s1, r, s2
    for _ = 1, 100 do
      s1 = slabinfo().userfaultfd_ctx_cache
      r = caches().userfaultfd_ctx_cache
      s2 = slabinfo().userfaultfd_ctx_cache
      if s1 and s2 and s1.active == s2.active and s1.total == s2.total and s1.slabs == s2.slabs then break end
      H.sleep(0.05)
    end
    assert.is_not_nil(r)
    assert.same(s1, s2)
    assert.equal(s1.active, r.active_objects)
    assert.equal(s1.total, r.total_objects)
    assert.equal(s1.slabs, r.slabs)
    assert.is_true(r.active_objects >= 500)
    assert.is_true(r.total_objects <= r.slabs * r.objects_per_slab)
  end)

  it("counts every cache's objects within what slabinfo shows, give or take churn", function()
    local before, mine, after = slabinfo(), caches(), slabinfo()
    for name, r in pairs(mine) do
      assert.is_true(r.active_objects <= r.total_objects, name)
      local b, a = before[name], after[name]
      if b and a then
        -- other processes allocate meanwhile: allow a few slabs and 2%
        local slack = 8 * r.objects_per_slab + math.max(b.total, a.total) // 50
        for _, f in ipairs { { "active", "active_objects" }, { "total", "total_objects" } } do
          local lo, hi = math.min(b[f[1]], a[f[1]]), math.max(b[f[1]], a[f[1]])
          assert.is_true(r[f[2]] >= lo - slack and r[f[2]] <= hi + slack,
            ("%s %s: %d not in [%d, %d]"):format(name, f[2], r[f[2]], lo, hi))
        end
        if b.total == 0 and a.total == 0 then
          assert.equal(0, r.total_objects, name)
          assert.equal(0, r.slabs, name)
        end
      end
    end
  end)
end) end

if not H.available("dmabufs") then
  describe("dmabufs", function() it("returns ENOTSUP on this kernel", H.enotsup("dmabufs")) end)
else describe("dmabufs", function()
  it("walks every DMA buffer to the end, as debugfs dma_buf/bufinfo counts them", function()
    local dir = H.mktemp_dir()
    local dbg = dir .. "/debug"
    finally(function()
      sh(("umount '%s'"):format(dbg))
      H.rm_rf(dir)
    end)
    assert(lfs.mkdir(dbg))
    assert(sh(("mount -t debugfs none '%s'"):format(dbg)))
    local before = assert(H.read_file(dbg .. "/dma_buf/bufinfo"))
    local step, it = bpfiter.dmabufs()
    assert(step, it)
    local mine = H.collect(step, it)
    local after = assert(H.read_file(dbg .. "/dma_buf/bufinfo"))
    assert.matches("%(done%)$", tostring(it))
    local n_before = tonumber(before:match("Total (%d+) objects"))
    local n_after = tonumber(after:match("Total (%d+) objects"))
    assert.is_true(#mine >= math.min(n_before, n_after) and #mine <= math.max(n_before, n_after))
    -- each buffer bufinfo lists in both reads, with its size and inode
    for _, r in ipairs(mine) do
      assert.is_true(r.size > 0)
      assert.is_string(r.exporter)
    end
  end)
end) end
