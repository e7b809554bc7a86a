-- Hostile streams: bpfiter.open() reads pinned views and saved streams
-- (regular files), and a view can come from any BPF program that writes
-- bytes. Whatever the bytes, a bad stream gives nil, msg, EPROTO from
-- open() or an EPROTO error from the walk: never a crash, an over-read
-- (the ASan build, `make asan`, runs these), or a hang. Streams are built
-- here from the record layouts (bpf/common/record_common.h and
-- bpf/targets/*_record.h); the fuzzer (fuzz/stream_fuzz.c) searches the
-- rest.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local EPROTO, EISDIR = 71, 21
local PID = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))

-- Record sizes of this build (a wrong one is refused at open: the spec
-- would say so).
local EPOLL, PAGECACHE, MAP_ELEM = 80, 104, 24
local ANON_INODE_FS_MAGIC = 0x09041934

local function header(kind, target, record_size)
  return string.pack("<I2I2I4c8I4I4c16", kind, 0, 1, "BPFITER\0", record_size, 0, target)
end
local function begin(target, size) return header(2, target, size) end
local function trailer(target, size) return header(3, target, size) end
local function pad(s) return s .. ("\0"):rep((8 - #s % 8) % 8) end

-- An epoll record (bpf/targets/epoll_record.h) and its tail.
local function epoll_rec(f, tail, tail_len)
  return pad(string.pack("<I2I2BBBBI4I4i4i4I4I4I4I4I8I8I8I8I8", 1, tail_len or #tail, f.type or 1,
    f.same or 0, f.is_name or 1, 0, 1, 1, 3, 4, 0x19, 0, 0, f.magic or ANON_INODE_FS_MAGIC,
    0, 42, 7, 8, 0) .. tail)
end

-- A pagecache record (bpf/targets/pagecache_record.h) and its tail.
local function pc_rec(type, tail, tail_len)
  return pad(string.pack("<I2I2BBI2I4I4I4I4I8I8I8I8I8I8I8I8c16", 1, tail_len or #tail, type, 0, 0,
    8 << 20 | 1, 0, 0x81a4, 0, 12, 0, 1, 1, 0, 0, 0, 0, "ext4") .. tail)
end

-- A map_elem record (bpf/targets/map_elem_record.h) and its tail.
local function elem_rec(key_size, value_size, cpus, tail, tail_len)
  return pad(string.pack("<I2I2I4I4I4I4I4", 1, tail_len or #tail, 0x7fffffff, key_size,
    value_size, cpus, 0) .. tail)
end

describe("hostile streams", function()
  local dir

  setup(function() dir = H.mktemp_dir() end)
  teardown(function() H.rm_rf(dir) end)

  local n = 0
  local function file_with(bytes)
    n = n + 1
    local path = ("%s/stream-%d"):format(dir, n)
    H.write_file(path, bytes, "wb")
    return path
  end

  -- open() refuses the file: nil, "open: PATH: WHY: Protocol error", EPROTO.
  local function refused(path, why)
    local step, msg, errno = bpfiter.open(path)
    assert.is_nil(step, path)
    assert.equal(EPROTO, errno, msg)
    assert.matches(why, msg, 1, true)
    return msg
  end

  -- open() accepts the header and the walk raises an EPROTO error saying why,
  -- after yielding at most `at_most` records.
  local function walk_fails(bytes, why, at_most)
    local step, it = bpfiter.open(file_with(bytes))
    assert.is_function(step, it)
    local got = 0
    local ok, err = pcall(function() for _ in step, it do got = got + 1 end end)
    assert.is_false(ok, "the walk ended without an error")
    assert.matches("^bpfiter: [%w_]+: ", err)
    assert.matches(why, err, 1, true)
    assert.matches("Protocol error$", err)
    assert.is_true(got <= (at_most or 0), ("%d records"):format(got))
    assert.equal("bpfiter.iterator: " .. err:match("^bpfiter: ([%w_]+)") .. " (done)", tostring(it))
    it:close()
  end

  describe("records that lie about their lengths", function()
    it("epoll: an anonymous-inode name longer than a dentry name (issue 11 reproducer)", function()
      walk_fails(begin("epoll", EPOLL) .. epoll_rec({}, ("A"):rep(8000)) .. trailer("epoll", EPOLL),
        "malformed epoll record: name or path too long")
      -- a path longer than PATH_MAX
      walk_fails(begin("epoll", EPOLL) .. epoll_rec({ is_name = 0, type = 2 }, ("/x"):rep(2100)) ..
        trailer("epoll", EPOLL), "name or path too long")
    end)

    it("epoll: a record type the program never writes", function()
      walk_fails(begin("epoll", EPOLL) .. epoll_rec({ type = 9 }, "") .. trailer("epoll", EPOLL),
        "unknown record type")
    end)

    it("cached_files and pagecache: a path tail longer than the program writes", function()
      for _, t in ipairs { "cached_files", "pagecache" } do
        walk_fails(begin(t, PAGECACHE) .. pc_rec(1, ("a/"):rep(4000)) .. trailer(t, PAGECACHE),
          "malformed " .. t .. " record: path too long")
      end
    end)

    it("map_elems: key or value sizes or the cpu count edited", function()
      local key, value = ("k"):rep(4), ("v"):rep(8)
      local function elems(rec) return begin("map_elems", MAP_ELEM) .. rec .. trailer("map_elems", MAP_ELEM) end
      -- a valid record first, so the checks are what refuses the others
      local step, it = bpfiter.open(file_with(elems(elem_rec(4, 8, 0, key .. value))))
      local recs = H.collect(step, it)
      assert.equal(1, #recs)
      assert.equal(key, recs[1].key_bytes)
      assert.equal(value, recs[1].value_bytes)
      walk_fails(elems(elem_rec(4, 0x7fffffff, 0, key .. value)), "key or value size out of range")
      walk_fails(elems(elem_rec(0x100000, 8, 0, key .. value)), "key or value size out of range")
      walk_fails(elems(elem_rec(4, 8, 0, key .. value .. ("x"):rep(512))),
        "key and value sizes disagree with the record's length")
      walk_fails(elems(elem_rec(4, 8, 64, key .. value)), "key and value sizes disagree")
      walk_fails(elems(elem_rec(4, 8, 0xffffffff, key .. value)), "key and value sizes disagree")
      -- an empty value would make any cpu count fit (a fuzzer find)
      walk_fails(elems(elem_rec(4, 0, 0x6d61705f, key)), "key or value size out of range")
    end)

    it("any target: a tail longer than the bytes present, or than one item can be", function()
      walk_fails(begin("epoll", EPOLL) .. epoll_rec({}, "[eventfd]", 60000), "walk ended inside a record")
      walk_fails(begin("cached_files", PAGECACHE) .. pc_rec(1, "", 65535) .. ("z"):rep(70000),
        "more than a stream item can be")
    end)
  end)

  describe("framing", function()
    it("a record cut short, or no end-of-walk trailer", function()
      local rec = epoll_rec({ type = 2, is_name = 0 }, "/etc/passwd")
      walk_fails(begin("epoll", EPOLL) .. rec:sub(1, 50), "walk ended inside a record")
      walk_fails(begin("epoll", EPOLL) .. rec, "walk was cut short (no end-of-walk trailer)")
    end)

    it("bad markers: unknown item kinds, ring markers in a view, a second header", function()
      local rec = epoll_rec({ type = 2, is_name = 0 }, "/etc/passwd")
      walk_fails(begin("epoll", EPOLL) .. string.pack("<I2I2I4", 9, 0, 0) .. trailer("epoll", EPOLL),
        "not a bpfiter stream (bad item kind)")
      walk_fails(begin("epoll", EPOLL) .. string.pack("<I2I2I4", 4, 0, 1000000) .. rec ..
        trailer("epoll", EPOLL), "ring buffer marker in a stream without one")
      walk_fails(begin("epoll", EPOLL) .. begin("epoll", EPOLL) .. trailer("epoll", EPOLL),
        "stream header out of place")
      walk_fails(begin("epoll", EPOLL) .. trailer("tasks", EPOLL), "stream of unknown target 'tasks'")
    end)

    it("headers that are not this build's: refused by open()", function()
      refused(file_with(begin("epoll", EPOLL + 8)), "epoll records of 88 bytes, this build reads 80")
      refused(file_with(begin("nothing", EPOLL)), "stream of unknown target 'nothing'")
      refused(file_with(header(5, "epoll", EPOLL)), "not a bpfiter stream (bad header kind)")
      refused(file_with(string.pack("<I2I2I4c8I4I4c16", 2, 0, 99, "BPFITER\0", EPOLL, 0, "epoll")),
        "bpfiter stream format 99, this build reads 1")
      refused(file_with(begin("epoll", EPOLL):sub(1, 39)), "not a bpfiter view (too short)")
    end)
  end)

  describe("saved streams", function()
    it("are read back from a regular file like the view they were saved from", function()
      local b = H.bpffs()
      local fs, unmount = b.fs, b.remove
      local fx
      finally(function()
        if fx then fx.stop() end
        unmount()
      end)
      fx = H.fixture("files", "$DIR")
      local view = fs .. "/tasks"
      assert(bpfiter.pin("tasks", view, { pid = fx.pid }))
      local saved = dir .. "/tasks.saved"
      assert(os.execute(("cat %s > %s"):format(view, saved)))
      os.remove(view)
      local recs = H.collect(bpfiter.open(saved))
      assert.is_true(#recs >= 1)
      -- ground truth: the fixture's own /proc entry
      local comm = H.read_file(("/proc/%d/comm"):format(fx.pid)):gsub("\n$", "")
      for _, r in ipairs(recs) do
        assert.equal(fx.pid, r.tgid)
        assert.equal(comm, r.comm)
      end
    end)
  end)

  describe("what open() does not read", function()
    it("refuses a FIFO without blocking, and devices and sockets without opening them", function()
      local fifo = dir .. "/fifo"
      assert(os.execute("mkfifo " .. fifo))
      local t0 = os.time()
      refused(fifo, "not a bpfiter view (a fifo; views are pins on bpffs or regular files)")
      assert.is_true(os.time() - t0 <= 1)
      refused("/dev/null", "not a bpfiter view (a character device")
      local sock = dir .. "/sock"
      local out, code = H.run(("env -u LD_PRELOAD python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(%q)'"):format(sock))
      assert.equal(0, code, out)
      assert.equal("socket", lfs.attributes(sock, "mode"))
      refused(sock, "not a bpfiter view (a socket")
      -- directories keep their own errno
      local step, msg, errno = bpfiter.open(dir)
      assert.is_nil(step)
      assert.equal(EISDIR, errno, msg)
    end)

    it("refuses a pinned program or map with EPROTO", function()
      local b = H.bpffs()
      local fs, unmount = b.fs, b.remove
      finally(unmount)
      local map = fs .. "/map"
      local out, code = H.run(("env -u LD_PRELOAD bpftool map create %s type hash key 4 value 4 " ..
        "entries 4 name spec_hostile"):format(map))
      assert.equal(0, code, out)
      out, code = H.run(("env -u LD_PRELOAD bpftool prog load %s/spec-text_iter.bpf.o %s/prog"):format(H.build, fs))
      assert.equal(0, code, out)
      refused(map, "a pinned BPF program or map, not an iterator link")
      refused(fs .. "/prog", "a pinned BPF program or map, not an iterator link")
    end)
  end)

  describe("a view pinned from a hostile BPF program", function()
    it("ends its walk with EPROTO (spec/hostile_view.bpf.c)", function()
      local b = H.bpffs()
      local fs, unmount = b.fs, b.remove
      local view = fs .. "/hostile"
      finally(function()
        os.remove(view)
        unmount()
      end)
      local out, code = H.run(("env -u LD_PRELOAD bpftool iter pin %s/spec-hostile_view.bpf.o %s"):format(H.build, view))
      assert.equal(0, code, out)
      local step, it = bpfiter.open(view)
      assert.is_function(step, it)
      local ok, err = pcall(function() for _ in step, it do end end)
      assert.is_false(ok)
      assert.equal("bpfiter: epoll: malformed epoll record: name or path too long: Protocol error", err)
      -- and the CLI says the same, exit status 1
      out, code = H.run(("lua5.4 bin/bpfiter cat %s"):format(view))
      assert.equal(1, code, out)
      assert.matches("name or path too long: Protocol error", out, 1, true)
    end)
  end)
end)
