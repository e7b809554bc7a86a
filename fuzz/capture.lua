-- Captures real streams into fuzz/corpus/TARGET/ as seeds for
-- fuzz/stream_fuzz.c (input = mode byte 0 + the stream as read()).
-- Pinnable targets are pinned on a private bpffs and read with cat; every
-- stream keeps its first RECORDS records (and its frames) so the corpus
-- stays small. Ring targets cannot be pinned: their seeds are built here
-- from the record layouts (bpf/targets/*_record.h), records inline.
-- Run as root from the source tree:
--   make all fixtures && BPFITER_BUILD=build lua5.4 fuzz/capture.lua
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("BPFITER_BUILD") or "build") .. "/?.so;" .. package.cpath
local bpfiter = require "bpfiter"
local H = require "helper"

local RECORDS = 6
local out_dir = "fuzz/corpus"

local HEADER = 40
local function header(kind, target, record_size)
  return string.pack("<I2I2I4c8I4I4c16", kind, 0, 1, "BPFITER\0", record_size, 0, target)
end
local function pad(n) return (n + 7) & ~7 end

-- The first n records of stream s, and all its frames.
local function trim(s, n)
  local record_size = string.unpack("<I4", s, 17)
  local out, pos, kept = {}, 1, 0
  while pos + 4 <= #s + 1 do
    local kind, tail = string.unpack("<I2I2", s, pos)
    local len = (kind == 2 or kind == 3) and HEADER or kind == 4 and 8 or record_size + pad(tail)
    if kind == 1 then
      kept = kept + 1
      if kept <= n then out[#out + 1] = s:sub(pos, pos + len - 1) end
    else
      out[#out + 1] = s:sub(pos, pos + len - 1)
    end
    pos = pos + len
  end
  return table.concat(out)
end

local function save(target, name, stream, mode)
  os.execute(("mkdir -p %s/%s"):format(out_dir, target))
  local f = assert(io.open(("%s/%s/%s"):format(out_dir, target, name), "wb"))
  f:write(mode or "\0", stream)
  f:close()
  print(("%-14s %-12s %6d bytes"):format(target, name, #stream))
end

-- Records in a ring, as a live walk has them: the stream holds markers,
-- the harness's ring (mode 32) the records. The first `early` records
-- come at a marker, the rest are left in the ring at the end of the read
-- (they belong to the object shown again first in the next read()).
local function save_ring(target, name, record_size, recs, early)
  local stream = header(2, target, record_size) .. string.pack("<I2I2I4", 4, 0, early) ..
    header(3, target, record_size)
  local chunk = { string.char(#recs) }
  for _, r in ipairs(recs) do chunk[#chunk + 1] = string.pack("<s2", r) end
  save(target, name, string.pack("<s2", stream) .. table.concat(chunk), "\32")
end

local top = H.mktemp_dir()
local dir = top .. "/fs"
assert(os.execute("mkdir " .. dir .. " && mount -t bpf bpf " .. dir))
local ok, err = pcall(function()
  local me = H.fixture("files", "$DIR")
  local pinned = {
    tasks = { pid = me.pid }, files = { pid = me.pid }, vmas = { pid = me.pid },
    tcp = {}, udp = {}, unix = {}, netlink = {}, bpf_progs = {}, bpf_maps = {},
    bpf_links = {}, ksyms = {}, kmem_caches = {}, dmabufs = {},
    cgroups = { root = "/sys/fs/cgroup/unified", order = "pre" },
  }
  -- map_elems: a plain hash map and a per-CPU one, with a few elements
  -- (their ids are gone when the fuzzer runs: no BTF decoding from here).
  assert(os.execute(("bpftool map create %s/plain type hash key 4 value 12 entries 8 name fz_plain"):format(dir)))
  assert(os.execute(("bpftool map create %s/pcpu type percpu_hash key 8 value 4 entries 8 name fz_pcpu"):format(dir)))
  for i = 1, 3 do
    os.execute(("bpftool map update pinned %s/plain key %d 0 0 0 value %d 0 0 0 1 2 3 4 5 6 7 8"):format(dir, i, i))
    os.execute(("bpftool map update pinned %s/pcpu key %d 0 0 0 0 0 0 0 value %d 0 0 0"):format(dir, i, i))
  end
  pinned["map_elems/plain"] = { map = dir .. "/plain" }
  pinned["map_elems/pcpu"] = { map = dir .. "/pcpu" }
  local names = {}
  for k in pairs(pinned) do names[#names + 1] = k end
  table.sort(names)
  for _, key in ipairs(names) do
    local target, variant = key:match("^([^/]+)/?(.*)$")
    local path = dir .. "/view-" .. key:gsub("/", "-")
    local pin_ok, msg = bpfiter.pin(target, path, pinned[key])
    if pin_ok then
      local p = assert(io.popen("cat " .. path))
      local s = p:read("a")
      p:close()
      if #s >= HEADER then save(target, variant ~= "" and variant or "live", trim(s, RECORDS)) end
      os.remove(path)
    else
      print("skipped " .. key .. ": " .. tostring(msg))
    end
  end
  me.stop()
end)
os.execute("umount " .. dir)
H.rm_rf(top)
assert(ok, err)

-- Ring targets: records written inline, as a saved stream has them.
local EPOLL = 80
local function epoll_rec(type, tid, fields, tail, is_name)
  local r = string.pack("<I2I2BBBBI4I4i4i4I4I4I4I4I8I8I8I8I8", 1, #tail, type, fields.same or 1,
    is_name and 1 or 0, 0, fields.pid or 100, tid, fields.epfd or 3, fields.tfd or 4,
    fields.events or 0x19, 5 << 20 | 1, 0x1000 | 0x180, fields.magic or 0x50495045,
    fields.data or 7, fields.ino or 4242, fields.file_id or 11, fields.epoll_id or 99, 0)
  assert(#r == EPOLL)
  return r .. tail .. ("\0"):rep(pad(#tail) - #tail)
end
local epoll_recs = {
  epoll_rec(2, 100, { tfd = 4, file_id = 11 }, "", true),
  epoll_rec(2, 100, { tfd = 5, file_id = 12, magic = 0x09041934 }, "[eventfd]", true),
  epoll_rec(2, 100, { tfd = 6, file_id = 13, magic = 0xef53 }, "/tmp/some/file", false),
  epoll_rec(1, 100, { tfd = 4, file_id = 11 }, "", false),
  epoll_rec(1, 100, { tfd = 5, file_id = 12, same = 0 }, "[eventfd]", true),
  epoll_rec(1, 101, { tfd = 9, file_id = 13 }, "", false),
  -- long paths are legal (up to PATH_MAX)
  epoll_rec(2, 102, { tfd = 7, file_id = 14, magic = 0xef53 }, ("/deep"):rep(200), false),
  -- an item whose fd was closed: its target named from the dentry
  epoll_rec(1, 102, { tfd = 8, file_id = 15, same = 0, magic = 0x09041934 }, "[timerfd]", true),
}
save("epoll", "crafted", header(2, "epoll", EPOLL) .. table.concat(epoll_recs) .. header(3, "epoll", EPOLL))
save_ring("epoll", "ring", EPOLL, epoll_recs, 5)

local PAGECACHE = 104
local function pc_rec(type, fields, tail)
  local r = string.pack("<I2I2BBI2I4I4I4I4I8I8I8I8I8I8I8I8c16", 1, #tail, type, fields.path_state or 0,
    fields.flags or 0, 8 << 20 | 1, 3, 0x81a4, 0, fields.ino or 12, fields.index or 0,
    fields.pages or 1, 4, 1, 0, 0, 2, "ext4")
  assert(#r == PAGECACHE)
  return r .. tail .. ("\0"):rep(pad(#tail) - #tail)
end
for _, target in ipairs { "pagecache", "cached_files" } do
  local recs = { pc_rec(1, { ino = 12 }, "passwd/etc") }
  if target == "pagecache" then
    recs[#recs + 1] = pc_rec(2, { ino = 12, index = 0, pages = 4, flags = 0x1f }, "")
    recs[#recs + 1] = pc_rec(3, { ino = 12, index = 8, pages = 1 }, "")
  end
  recs[#recs + 1] = pc_rec(1, { ino = 13, path_state = 1 }, "")
  recs[#recs + 1] = pc_rec(1, { ino = 14 }, ("leaf/"):rep(818) .. "root")  -- 4094 bytes
  recs[#recs + 1] = pc_rec(4, { pages = 0 }, "")
  save(target, "crafted", header(2, target, PAGECACHE) .. table.concat(recs) .. header(3, target, PAGECACHE))
  save_ring(target, "ring", PAGECACHE, recs, 2)
end
