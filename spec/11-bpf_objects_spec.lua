-- bpfiter.bpf_progs, bpf_maps, bpf_links and map_elems against BPF objects
-- this spec creates (bpftool loads spec/elems.bpf.c and creates maps in a
-- bpffs mounted in a temp dir; spec/bpf_links.c makes a raw_tracepoint and
-- a cgroup link), compared with what bpftool --json reports for them.
-- Other processes load BPF objects meanwhile: system-wide comparisons
-- tolerate objects appearing and disappearing between reads.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local lfs = require "lfs"
local H = require "helper"

local ENOENT, EINVAL, E2BIG, ENOTSUP = 2, 22, 7, 95

-- Tools run without LD_PRELOAD: make asan preloads ASan, which would make
-- them report their own leaks.
local function sh(cmd)
  local ok = os.execute("env -u LD_PRELOAD " .. cmd .. " >/dev/null 2>&1")
  return ok
end

-- JSON numbers come back as floats: whole ones become integers, as ids
-- and sizes are in bpfiter's records.
local function integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
  elseif math.type(v) == "float" then
    return math.tointeger(v) or v
  end
  return v
end

-- bpftool --json output of cmd, decoded; raises with bpftool's message.
local function bpftool(args)
  local p = assert(io.popen("env -u LD_PRELOAD bpftool --json " .. args .. " 2>&1"))
  local out = p:read("a")
  p:close()
  local ok, v = pcall(cjson.decode, out)
  assert(ok and type(v) == "table" and not v.error, "bpftool " .. args .. ": " .. out)
  return integers(v)
end

local function ids(list)
  local set = {}
  for _, x in ipairs(list) do set[x.id] = x end
  return set
end

local function walk(step, it)
  return H.collect(step, it)
end

-- "hex 01 00 0a" arguments for bpftool from a byte string.
local function hex_args(bytes)
  return "hex " .. bytes:gsub(".", function(c) return ("%02x "):format(c:byte()) end)
end

-- bpftool's ["0x01","0x00"] back to a byte string.
local function unhex(list)
  local out = {}
  for i, h in ipairs(list) do out[i] = string.char(tonumber(h)) end
  return table.concat(out)
end

local function possible_cpus()
  local n = 0
  for range in H.read_file("/sys/devices/system/cpu/possible"):gmatch("[^,\n]+") do
    local lo, hi = range:match("^(%d+)-(%d+)$")
    n = n + (lo and tonumber(hi) - tonumber(lo) + 1 or 1)
  end
  return n
end

-- Ids of the BPF links this process holds fds of (fdinfo "link_id:").
local function own_link_ids()
  local own = {}
  for fd in lfs.dir("/proc/self/fdinfo") do
    local id = (H.read_file("/proc/self/fdinfo/" .. fd) or ""):match("\nlink_id:%s*(%d+)")
    if id then own[tonumber(id)] = true end
  end
  return own
end

-- A bpffs in a temp dir with the spec's BPF object loaded into it.
local dir, fs
local prog        -- bpftool prog show of the loaded program
local maps = {}   -- name -> bpftool map show

local function cleanup()
  if fs then sh(("umount '%s'"):format(fs)) end
  H.rm_rf(dir)
end

setup(function()
  -- no dot in the path: libbpf turns dots in pin paths into underscores
  local p = assert(io.popen("env -u LD_PRELOAD mktemp -d /tmp/bpfiter-bpffs-XXXXXX"))
  dir = p:read("l")
  p:close()
  fs = dir .. "/fs"
  assert(lfs.mkdir(fs))
  assert(sh(("mount -t bpf bpf '%s'"):format(fs)), "mounting a bpffs")
  assert(lfs.mkdir(fs .. "/maps"))
  local out, status = H.run(("env -u LD_PRELOAD bpftool prog load '%s/spec-elems.bpf.o' '%s/prog' pinmaps '%s/maps'")
    :format(H.build, fs, fs))
  assert(status == 0, out)
  prog = bpftool(("prog show pinned '%s/prog'"):format(fs))
  for name in lfs.dir(fs .. "/maps") do
    if not name:match("^%.") then
      maps[name] = bpftool(("map show pinned '%s/maps/%s'"):format(fs, name))
    end
  end
end)

teardown(cleanup)

describe("bpf_progs", function()
  it("lists the program this spec loaded as bpftool prog show reports it", function()
    local mine
    for p in bpfiter.bpf_progs() do
      if p.id == prog.id then mine = p end
    end
    assert.is_not_nil(mine)
    assert.equal("socket_filter", mine.type)
    assert.equal(prog.type, mine.type)
    assert.equal("elems_prog", mine.name)
    assert.equal(prog.name, mine.name)
    assert.equal(prog.tag, mine.tag)
    assert.matches("^%x+$", mine.tag)
    assert.equal(16, #mine.tag)
    assert.equal(prog.gpl_compatible, mine.gpl_compatible)
    assert.equal(prog.uid, mine.uid)
    assert.equal(prog.bytes_xlated, mine.xlated_bytes)
    assert.equal(prog.jited, mine.jited)
    assert.equal(prog.bytes_jited, mine.jited_bytes)
    assert.equal(prog.bytes_memlock, mine.memlock_bytes)
    assert.equal(prog.btf_id, mine.btf_id)
    local want = { table.unpack(prog.map_ids) }
    table.sort(want)
    table.sort(mine.map_ids)
    assert.same(want, mine.map_ids)
    -- the program uses elems_array, elems_pcpu and the .data map
    assert.equal(3, #mine.map_ids)
    assert.is_not_nil(ids(walk(bpfiter.bpf_maps()))[mine.map_ids[1]])
  end)

  it("gives the load time since boot, which bpftool turns into wall-clock seconds", function()
    local mine
    for p in bpfiter.bpf_progs() do
      if p.id == prog.id then mine = p end
    end
    -- bpftool: loaded_at = now - (boottime now - load time); /proc/uptime
    -- is CLOCK_BOOTTIME. Whole seconds on both sides, read together.
    local uptime = tonumber(H.read_file("/proc/uptime"):match("^(%S+)"))
    local boot_epoch = os.time() - uptime
    local loaded_at = boot_epoch + mine.load_time_ns / 1e9
    assert.is_true(math.abs(loaded_at - prog.loaded_at) <= 2,
      ("%.1f vs %d"):format(loaded_at, prog.loaded_at))
  end)

  it("lists bpfiter's own iterator program, of type tracing, as bpftool does", function()
    local own
    for p in bpfiter.bpf_progs() do
      if p.name == "dump_bpf_prog" then own = p end
    end
    assert.is_not_nil(own)
    local b = bpftool("prog show id " .. own.id)
    assert.equal("tracing", own.type)
    assert.equal(b.type, own.type)
    assert.equal(b.tag, own.tag)
    assert.equal(b.bytes_jited, own.jited_bytes)
    assert.equal(b.bytes_xlated, own.xlated_bytes)
  end)

  it("sees every program that bpftool lists both before and after the walk", function()
    local before = ids(bpftool("prog show"))
    local mine = ids(walk(bpfiter.bpf_progs()))
    local after = ids(bpftool("prog show"))
    local max_before = 0
    for id in pairs(before) do max_before = math.max(max_before, id) end
    for id, p in pairs(before) do
      if after[id] then
        assert.is_not_nil(mine[id], "program " .. id)
        assert.equal(p.type, mine[id].type)
        assert.equal(p.tag, mine[id].tag)
      end
    end
    -- anything else was loaded after the first listing (ids only grow)
    for id in pairs(mine) do
      assert.is_true(before[id] ~= nil or after[id] ~= nil or id > max_before, "program " .. id)
    end
  end)
end)

describe("bpf_maps", function()
  it("lists the maps of the loaded object as bpftool map show reports them", function()
    local mine = ids(walk(bpfiter.bpf_maps()))
    local n = 0
    for _, b in pairs(maps) do
      local m = mine[b.id]
      assert.is_not_nil(m, b.name)
      assert.equal(b.type, m.type)
      assert.equal(b.name, m.name)
      assert.equal(b.bytes_key, m.key_size)
      assert.equal(b.bytes_value, m.value_size)
      assert.equal(b.max_entries, m.max_entries)
      assert.equal(b.flags, m.flags)
      assert.equal(b.frozen == 1, m.frozen)
      assert.equal(b.btf_id, m.btf_id)
      n = n + 1
    end
    assert.equal(5, n) -- hash, percpu_array, array, ringbuf, .data
    local types = {}
    for _, b in pairs(maps) do types[mine[b.id].name] = mine[b.id].type end
    assert.same({ elems_hash = "hash", elems_pcpu = "percpu_array", elems_array = "array",
      elems_ring = "ringbuf", ["spec_ele.data"] = "array" }, types)
  end)

  it("gives no BTF ids for a map created without BTF, and says when it is frozen", function()
    local path = fs .. "/plain"
    assert(sh(("bpftool map create '%s' type lru_hash key 8 value 16 entries 32 name spec_plain"):format(path)))
    assert(sh(("bpftool map freeze pinned '%s'"):format(path)))
    local b = bpftool(("map show pinned '%s'"):format(path))
    local m = ids(walk(bpfiter.bpf_maps()))[b.id]
    assert(sh(("rm '%s'"):format(path)))
    assert.equal("lru_hash", m.type)
    assert.equal("spec_plain", m.name)
    assert.equal(8, m.key_size)
    assert.equal(16, m.value_size)
    assert.equal(32, m.max_entries)
    assert.is_true(m.frozen)
    assert.equal(1, b.frozen)
    assert.is_nil(m.btf_id)
    assert.is_nil(m.btf_value_type_id)
  end)

  it("sees every map that bpftool lists both before and after the walk", function()
    local before = ids(bpftool("map show"))
    local mine = ids(walk(bpfiter.bpf_maps()))
    local after = ids(bpftool("map show"))
    local max_before = 0
    for id in pairs(before) do max_before = math.max(max_before, id) end
    for id, b in pairs(before) do
      if after[id] then
        assert.is_not_nil(mine[id], "map " .. id)
        assert.equal(b.type, mine[id].type)
        assert.equal(b.name, mine[id].name)
      end
    end
    for id in pairs(mine) do
      assert.is_true(before[id] ~= nil or after[id] ~= nil or id > max_before, "map " .. id)
    end
  end)
end)

describe("bpf_links", function()
  it("lists iterator links with their target, program and map, as bpftool link show", function()
    local hash = maps.elems_hash
    local s1, tasks_it = bpfiter.tasks { pid = 1 }
    local s2, elems_it = bpfiter.map_elems(hash.id)
    assert(s1 and s2)
    local own = own_link_ids() -- the links our two iterators hold
    local mine = ids(walk(bpfiter.bpf_links()))
    local links = ids(bpftool("link show"))
    tasks_it:close()
    elems_it:close()
    local task_link, elem_link
    for id in pairs(own) do
      local l, b = mine[id], links[id]
      if l and l.target_name == "task" then task_link = l end
      if l and l.target_name == "bpf_map_elem" then elem_link = l end
      if l then
        assert.equal(b.type, l.type)
        assert.equal(b.prog_id, l.prog_id)
        assert.equal(b.target_name, l.target_name)
        assert.equal(b.map_id, l.map_id)
      end
    end
    assert.is_not_nil(elem_link)
    assert.equal("iter", elem_link.type)
    assert.equal(hash.id, elem_link.map_id)
    -- struct bpf_link has its attach_type from 6.13 (README "Kernels")
    local attach_types = H.struct_has("bpf_link", "attach_type")
    assert.equal(attach_types and "trace_iter" or nil, elem_link.attach_type)
    assert.is_not_nil(task_link)
    assert.equal("iter", task_link.type)
    assert.is_nil(task_link.map_id)
    -- the programs behind them are bpfiter's
    local progs = ids(walk(bpfiter.bpf_progs()))
    assert.equal("dump_map_elem", progs[elem_link.prog_id].name)
    assert.equal("dump_task", progs[task_link.prog_id].name)
  end)

  it("lists the link of a pinned view, which outlives the walk that made it", function()
    local path = fs .. "/view"
    assert(bpfiter.pin("ksyms", path))
    finally(function() bpfiter.unpin(path) end)
    local b = bpftool(("link show pinned '%s'"):format(path))
    local l = ids(walk(bpfiter.bpf_links()))[b.id]
    assert.is_not_nil(l)
    assert.equal("iter", l.type)
    assert.equal("ksym", l.target_name)
    assert.equal(b.target_name, l.target_name)
    assert.equal(b.prog_id, l.prog_id)
  end)

  it("names a raw tracepoint link's tracepoint and a cgroup link's cgroup, as bpftool", function()
    local mnt = H.cgroup2_mount()
    assert.is_not_nil(mnt, "a cgroup v2 mount")
    local cg = ("%s/bpfiter-spec-%d"):format(mnt, tonumber(H.read_file("/proc/self/stat"):match("^%d+")))
    assert(lfs.mkdir(cg))
    local fx
    finally(function()
      if fx then fx.stop() end
      lfs.rmdir(cg)
    end)
    fx = H.spawn("bpf_links", cg)
    local raw_id, cg_id = tonumber(fx.info.raw_tp_link), tonumber(fx.info.cgroup_link)
    local mine = ids(walk(bpfiter.bpf_links()))
    local raw, cgl = mine[raw_id], mine[cg_id]
    local b_raw, b_cg = bpftool("link show id " .. raw_id), bpftool("link show id " .. cg_id)
    assert.is_not_nil(raw)
    assert.equal("raw_tracepoint", raw.type)
    assert.equal(b_raw.type, raw.type)
    assert.equal("sched_switch", raw.tp_name)
    assert.equal(b_raw.tp_name, raw.tp_name)
    assert.equal(tonumber(fx.info.raw_tp_prog), raw.prog_id)
    assert.is_nil(raw.attach_type) -- attach types do not apply to it
    assert.is_not_nil(cgl)
    assert.equal("cgroup", cgl.type)
    assert.equal(tonumber(fx.info.cgroup_prog), cgl.prog_id)
    assert.equal(lfs.attributes(cg, "ino"), cgl.cgroup_id)
    assert.equal(b_cg.cgroup_id, cgl.cgroup_id)
    if H.struct_has("bpf_link", "attach_type") then -- 6.13+
      assert.equal("cgroup_inet_ingress", cgl.attach_type)
      assert.equal(b_cg.attach_type, cgl.attach_type)
    else
      assert.is_nil(cgl.attach_type)
    end
  end)
end)

-- elems_hash's value, laid out as its BTF says (bpftool btf dump of
-- spec-elems.bpf.o): count@0 delta@8 label@12 corners@24 bytes@40 color@44,
-- bitfields flag:1 level:4 offset:5 from bit 384, on@50 ptr@56 u@64; 72 bytes.
local KEY = string.pack("<I4I2BB", 7, 443, 6, 0)
local VALUE = string.pack("<I8i4c12i4i4i4i4BBBxI4", (1 << 40) + 5, -5, "hello world\0",
  1, -2, 3, -4, 9, 8, 7, 7)
  .. string.char(0x3b, 0x02, 1, 0) .. ("\0"):rep(4)            -- bits 0b1000111011, on = 1
  .. string.pack("<I8", 0x1234) .. string.pack("<I4", 0x04030201) .. ("\0"):rep(4)

-- bpftool prints bitfields as hex strings of their bits; signed ones are
-- sign-extended here, like C reads them.
local function bpftool_bitfield(hex, bits, signed)
  local v = tonumber(hex)
  if signed and v >= 1 << (bits - 1) then v = v - (1 << bits) end
  return v
end

describe("map_elems", function()
  local hash_path, hash_id

  setup(function()
    hash_path = fs .. "/maps/elems_hash"
    hash_id = maps.elems_hash.id
    assert(#VALUE == 72)
    assert(sh(("bpftool map update pinned '%s' key %s value %s"):format(hash_path, hex_args(KEY), hex_args(VALUE))))
  end)

  it("gives each element's key and value bytes, as bpftool map dump", function()
    local mine = walk(bpfiter.map_elems(hash_id))
    local dump = bpftool(("map dump pinned '%s'"):format(hash_path))
    assert.equal(1, #mine)
    assert.equal(#dump, #mine)
    assert.equal(hash_id, mine[1].map_id)
    assert.equal(KEY, mine[1].key_bytes)
    assert.equal(VALUE, mine[1].value_bytes)
    assert.equal(unhex(dump[1].key), mine[1].key_bytes)
    assert.equal(unhex(dump[1].value), mine[1].value_bytes)
  end)

  it("decodes keys and values with the map's BTF as bpftool's formatted output", function()
    local e = walk(bpfiter.map_elems(hash_path))[1]
    local f = bpftool(("map dump pinned '%s'"):format(hash_path))[1].formatted
    assert.same(f.key, e.key)
    assert.same({ id = 7, port = 443, proto = 6, pad = 0 }, e.key)
    local v, fv = e.value, f.value
    -- bitfields: integers here, hex strings in bpftool
    assert.equal(bpftool_bitfield(fv.flag, 1), v.flag)
    assert.equal(bpftool_bitfield(fv.level, 4), v.level)
    assert.equal(bpftool_bitfield(fv.offset, 5, true), v.offset)
    for _, k in ipairs { "flag", "level", "offset" } do v[k], fv[k] = nil, nil end
    assert.same(fv, v)
    -- and what the bytes hold, independently of bpftool
    assert.equal((1 << 40) + 5, v.count)
    assert.equal(-5, v.delta)
    assert.equal("hello world", v.label)
    assert.same({ { x = 1, y = -2 }, { x = 3, y = -4 } }, v.corners)
    assert.same({ 9, 8, 7 }, v.bytes)
    assert.equal("ELEMS_BLUE", v.color)
    assert.is_true(v.on)
    assert.equal(0x1234, v.ptr)
    assert.same({ word = 0x04030201, octets = { 1, 2, 3, 4 } }, v.u)
  end)

  it("decodes bitfields, signed ones sign-extended", function()
    local v = walk(bpfiter.map_elems(hash_id))[1].value
    -- 0b10_0011_101(1): flag = 1, level = 0b1101, offset = 0b10001 = -15
    assert.equal(1, v.flag)
    assert.equal(13, v.level)
    assert.equal(-15, v.offset)
  end)

  it("gives per-CPU values as an array, one entry per possible CPU", function()
    local path = fs .. "/maps/elems_pcpu"
    assert(sh(("bpftool map update pinned '%s' key hex 01 00 00 00 value %s"):format(path,
      hex_args(string.pack("<i4i4", 11, -12)))))
    local mine = walk(bpfiter.map_elems(path))
    local dump = bpftool(("map dump pinned '%s'"):format(path))
    assert.equal(2, #mine) -- an array: both indices
    assert.equal(#dump, #mine)
    local cpus = possible_cpus()
    for i, e in ipairs(mine) do
      local d = dump[i]
      assert.equal(unhex(d.key), e.key_bytes)
      assert.equal(d.formatted.key, e.key)
      assert.equal(cpus, #e.value_bytes)
      assert.equal(cpus, #e.value)
      for cpu = 1, cpus do
        assert.equal(unhex(d.values[cpu].value), e.value_bytes[cpu])
        assert.same(d.formatted.values[cpu].value, e.value[cpu])
      end
    end
    assert.same({ x = 11, y = -12 }, mine[2].value[1])
    assert.same({ x = 11, y = -12 }, mine[2].value[cpus])
    assert.same({ x = 0, y = 0 }, mine[1].value[1])
  end)

  it("walks every index of an array map", function()
    local path = fs .. "/maps/elems_array"
    assert(sh(("bpftool map update pinned '%s' key hex 02 00 00 00 value %s"):format(path,
      hex_args(string.pack("<i8", -77)))))
    local mine = walk(bpfiter.map_elems { map = path })
    local dump = bpftool(("map dump pinned '%s'"):format(path))
    assert.equal(3, #mine)
    for i, e in ipairs(mine) do
      assert.equal(dump[i].formatted.key, e.key)
      assert.equal(dump[i].formatted.value, e.value)
    end
    assert.same({ 0, 1, 2 }, { mine[1].key, mine[2].key, mine[3].key })
    assert.equal(-77, mine[3].value)
  end)

  it("decodes global data (.data) as a table of its variables", function()
    local path = fs .. "/maps/spec_ele_data"
    local e = walk(bpfiter.map_elems(path))
    local f = bpftool(("map dump pinned '%s'"):format(path))[1].formatted
    assert.equal(1, #e)
    assert.same({ elems_counter = 42, elems_greeting = "hello" }, e[1].value)
    -- bpftool: {".data": [{"elems_counter": 42}, {"elems_greeting": "hello"}]}
    local vars = {}
    for _, one in ipairs(f.value[".data"]) do
      for k, v in pairs(one) do vars[k] = v end
    end
    assert.same(vars, e[1].value)
    assert.is_nil(e[1].key) -- its key has no BTF type
  end)

  it("gives bytes only for a map without BTF", function()
    local path = fs .. "/plain_hash"
    assert(sh(("bpftool map create '%s' type hash key 4 value 3 entries 4 name spec_nobtf"):format(path)))
    finally(function() os.remove(path) end)
    assert(sh(("bpftool map update pinned '%s' key 5 0 0 0 value 1 2 3"):format(path)))
    assert(sh(("bpftool map update pinned '%s' key 6 0 0 0 value 4 5 6"):format(path)))
    local mine = walk(bpfiter.map_elems(path))
    local dump = bpftool(("map dump pinned '%s'"):format(path))
    assert.equal(2, #mine)
    local got, want = {}, {}
    for i, e in ipairs(mine) do
      assert.is_nil(e.key)
      assert.is_nil(e.value)
      got[e.key_bytes] = e.value_bytes
      want[unhex(dump[i].key)] = unhex(dump[i].value)
    end
    assert.same(want, got)
    assert.same({ ["\5\0\0\0"] = "\1\2\3", ["\6\0\0\0"] = "\4\5\6" }, got)
  end)

  it("treats an empty map as an empty, complete walk", function()
    local path = fs .. "/empty"
    assert(sh(("bpftool map create '%s' type hash key 4 value 4 entries 4 name spec_empty"):format(path)))
    finally(function() os.remove(path) end)
    local step, it = bpfiter.map_elems(path)
    assert.is_nil(step(it))
    assert.matches("%(done%)$", tostring(it))
  end)

  it("carries elements up to the per-object limit, and refuses larger ones at open", function()
    -- key + value up to 32,640 bytes fit one seq_file object (~32 KiB)
    local fits, big = fs .. "/fits", fs .. "/big"
    assert(sh(("bpftool map create '%s' type array key 4 value 32636 entries 1 name spec_fits"):format(fits)))
    assert(sh(("bpftool map create '%s' type array key 4 value 32637 entries 1 name spec_big"):format(big)))
    finally(function() os.remove(fits); os.remove(big) end)
    local value = ("\0"):rep(32635) .. "\171"
    assert(sh(("bpftool map update pinned '%s' key hex 00 00 00 00 value %s"):format(fits, hex_args(value))))
    local mine = walk(bpfiter.map_elems(fits))
    assert.equal(1, #mine)
    assert.equal(value, mine[1].value_bytes)
    local f, msg, errno = bpfiter.map_elems(big)
    assert.is_nil(f)
    assert.equal(E2BIG, errno)
    assert.matches("^map_elems: .*big: an element takes 32641 bytes, more than the kernel passes for one object", msg)
  end)

  it("reads a pinned view of a map's elements", function()
    local path = fs .. "/elems_view"
    assert(bpfiter.pin("map_elems", path, { map = hash_id }))
    finally(function() bpfiter.unpin(path) end)
    local mine = walk(bpfiter.open(path))
    assert.equal(1, #mine)
    assert.equal(VALUE, mine[1].value_bytes)
    assert.equal("hello world", mine[1].value.label)
  end)

  it("returns nil, message, errno for maps it cannot walk", function()
    local f, msg, errno = bpfiter.map_elems(0x7ffffff0)
    assert.is_nil(f)
    assert.equal("map_elems: map 2147483632: No such file or directory", msg)
    assert.equal(ENOENT, errno)
    f, msg, errno = bpfiter.map_elems(fs .. "/nothing")
    assert.is_nil(f)
    assert.equal(ENOENT, errno)
    f, msg, errno = bpfiter.map_elems("/etc/passwd")
    assert.is_nil(f)
    assert.matches("not a pinned BPF map", msg)
    assert.equal(EINVAL, errno)
    f, msg, errno = bpfiter.map_elems(fs .. "/prog")
    assert.is_nil(f)
    assert.matches("not a pinned BPF map", msg)
    assert.equal(EINVAL, errno)
    f, msg, errno = bpfiter.map_elems(maps.elems_ring.id)
    assert.is_nil(f)
    assert.equal(("map_elems: map %d is a ringbuf map; the kernel iterates only hash, lru_hash and "
      .. "array maps and their per-CPU kinds: Operation not supported"):format(maps.elems_ring.id), msg)
    assert.equal(ENOTSUP, errno)
  end)

  it("raises for a missing or mistyped map argument", function()
    assert.has_error(function() bpfiter.map_elems() end,
      "bad argument #1 to 'map_elems' (option 'map' is required (a map id or a pinned path))")
    assert.has_error(function() bpfiter.map_elems(1.5) end,
      "bad argument #1 to 'map_elems' (map id or pinned path expected, got float)")
    assert.has_error(function() bpfiter.map_elems(-3) end,
      "bad argument #1 to 'map_elems' (option 'map' must be a positive map id, got -3)")
    assert.has_error(function() bpfiter.map_elems { map = true } end,
      "bad argument #1 to 'map_elems' (option 'map' must be an integer or a string, got boolean)")
    assert.has_error(function() bpfiter.map_elems { map = 1, key = 2 } end,
      "bad argument #1 to 'map_elems' (unknown option 'key' for map_elems)")
  end)
end)
