-- Every target once, on whatever kernel runs the suite: with
-- spec/13-discovery, what `make vm-smoke` (CI) runs in Debian's 6.1 and
-- 6.12; `make vm-check` runs the whole suite there. A target the kernel cannot run
-- returns ENOTSUP saying which kernel it needs; every other one completes a
-- walk whose records carry only declared fields and agree with /proc,
-- bpftool or slabinfo on something this spec knows.
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local ENOTSUP = 95

local function walk(name, opts)
  local recs = H.collect(bpfiter[name](opts or {}))
  local declared = {}
  for _, f in ipairs(bpfiter.fields[name]) do declared[f] = true end
  local undeclared = {}
  for _, r in ipairs(recs) do
    for k in pairs(r) do
      if not declared[k] then undeclared[k] = true end
    end
  end
  assert.same({}, undeclared, name)
  return recs
end

local function set_of(list, key)
  local s = {}
  for _, r in ipairs(list) do s[r[key]] = true end
  return s
end

-- ids bpftool lists now, for `kind` (prog, map, link)
local function bpftool_ids(kind)
  local ids = {}
  for id in H.run("bpftool " .. kind .. " show -j"):gmatch('"id":(%d+)') do ids[tonumber(id)] = true end
  return ids
end

-- Every BPF object bpftool lists both before and after the walk is in it.
local function same_bpf_objects(kind, target)
  local before, seen = bpftool_ids(kind), set_of(walk(target), "id")
  for id in pairs(bpftool_ids(kind)) do
    if before[id] then assert.is_true(seen[id], kind .. " " .. id) end
  end
end

-- Checks per target, given the fixtures.
local checks = {
  tasks = function(fx)
    local recs = walk("tasks", { pid = fx.threads.pid })
    assert.equal(#H.proc_tids(fx.threads.pid), #recs)
    for _, t in ipairs(recs) do
      assert.equal(H.proc_stat(fx.threads.pid, t.pid)[2], t.comm)
    end
  end,
  files = function(fx)
    local fds = {}
    for fd in pairs(H.proc_fds(fx.files.pid)) do fds[#fds + 1] = fd end
    local got = {}
    for _, f in ipairs(walk("files", { pid = fx.files.pid })) do got[#got + 1] = f.fd end
    table.sort(fds)
    table.sort(got)
    assert.same(fds, got)
  end,
  vmas = function(fx)
    local starts = {}
    for _, m in ipairs(H.proc_maps(fx.threads.pid)) do
      if m.path ~= "[vsyscall]" then starts[#starts + 1] = m.start end
    end
    local got = {}
    for _, v in ipairs(walk("vmas", { pid = fx.threads.pid })) do got[#got + 1] = v.start end
    assert.same(starts, got)
  end,
  -- the files fixture holds a socketpair and a TCP socket: their inodes
  unix = function(fx)
    local inodes = set_of(walk("unix"), "inode")
    local n = 0
    for _, f in pairs(H.proc_fds(fx.files.pid)) do
      if f.path and f.path:match("^socket:") and inodes[f.ino] then n = n + 1 end
    end
    assert.is_true(n >= 2, "the fixture's socketpair")
  end,
  tcp = function(fx)
    local inodes = set_of(walk("tcp"), "inode")
    local found = false
    for _, f in pairs(H.proc_fds(fx.files.pid)) do found = found or inodes[f.ino] == true end
    assert.is_true(found, "the fixture's TCP socket")
  end,
  udp = function() walk("udp") end,
  netlink = function()
    -- the kernel's own rtnetlink socket (protocol 0) always exists
    local kernel = false
    for _, s in ipairs(walk("netlink")) do kernel = kernel or s.protocol == 0 end
    assert.is_true(kernel)
  end,
  bpf_progs = function() same_bpf_objects("prog", "bpf_progs") end,
  bpf_maps = function() same_bpf_objects("map", "bpf_maps") end,
  bpf_links = function() same_bpf_objects("link", "bpf_links") end,
  ksyms = function()
    local names = set_of(walk("ksyms"), "name")
    assert.truthy(H.read_file("/proc/kallsyms"):find(" schedule\n", 1, true))
    assert.is_true(names.schedule)
  end,
  kmem_caches = function()
    local names = set_of(walk("kmem_caches"), "name")
    for line in H.read_file("/proc/slabinfo"):gmatch("[^\n]+") do
      local name = line:match("^(kmalloc%-%d+) ")
      if name then assert.is_true(names[name], name) end
    end
  end,
  dmabufs = function() walk("dmabufs") end,
  cgroups = function()
    local mnt = H.cgroup2_mount()
    local recs = walk("cgroups", { root = mnt, order = "self" })
    assert.equal(1, #recs)
    assert.equal(lfs.attributes(mnt, "ino"), recs[1].id)
  end,
  epoll = function()
    -- a set of 3 items: one record per item, as /proc/PID/fdinfo lists them
    local fx = H.spawn("epoll_fixture", "sets", "3")
    local ok, err = pcall(function()
      local epfd = tonumber(fx.info.set:match("^3 (%d+)"))
      local items = H.read_file(("/proc/%d/fdinfo/%d"):format(fx.pid, epfd))
      local _, n = items:gsub("\ntfd:", "")
      assert.equal(3, n)
      assert.equal(n, #walk("epoll", { pid = fx.pid, epfd = epfd }))
    end)
    fx.stop()
    assert(ok, err)
  end,
  -- a file this spec wrote: its pages are in the page cache (the
  -- interpreter's own would not do in vm/, where it sits under an overlay)
  cached_files = function(fx)
    local found
    for _, c in ipairs(walk("cached_files")) do
      if c.path == fx.cached then found = c end
    end
    assert.is_not_nil(found, fx.cached)
    assert.equal(256 * 4096 // bpfiter.page_size, found.cached)
  end,
  pagecache = function(fx)
    local pages = 0
    for _, r in ipairs(walk("pagecache", { path = fx.cached })) do pages = pages + (r.pages or 0) end
    assert.equal(256 * 4096 // bpfiter.page_size, pages)
  end,
}

describe("every target on this kernel (" .. H.run("uname -r"):gsub("\n", "") .. ")", function()
  local fx = {}
  setup(function()
    fx.threads = H.fixture("threads", 2, "kspec")
    fx.files = H.fixture("files", "$DIR")
    fx.dir = H.mktemp_dir()
    fx.cached = fx.dir .. "/cached"
    H.write_file(fx.cached, ("x"):rep(256 * 4096))
  end)
  teardown(function()
    fx.threads.stop()
    fx.files.stop()
    H.rm_rf(fx.dir)
  end)

  for _, name in ipairs(bpfiter.target_names) do
    it(name .. ": a complete walk, or ENOTSUP naming the kernel it needs", function()
      local ok, reason = bpfiter.available(name)
      if not ok then
        assert.matches("^needs kernel >= %d+%.%d+ %(.+%)", reason)
        local f, msg, errno = bpfiter[name]({})
        assert.is_nil(f)
        assert.equal(name .. ": " .. reason .. ": Operation not supported", msg)
        assert.equal(ENOTSUP, errno)
      elseif checks[name] then
        checks[name](fx)
      else
        assert.equal("map_elems", name) -- needs a map: spec 11 walks it
      end
    end)
  end
end)

-- README's support table ("## Kernels") is what this spec found: the column
-- of the running kernel (6.1, 6.12 and 6.18 are measured; another kernel
-- has no column and is not checked) says "not available: needs X.Y" for
-- exactly the targets that return ENOTSUP naming X.Y, and every target is
-- in one row. The caveats a cell names are checked where a walk shows them.
describe("README's support table for this kernel", function()
  local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. ".."
  local running = H.run("uname -r"):match("^(%d+%.%d+)")

  local function cells(line)
    local t = {}
    for c in line:gmatch("|%s*([^|]-)%s*%f[|]") do t[#t + 1] = c end
    return t
  end

  -- target -> cell text for the running kernel's column, or nil
  local function column()
    local text = assert(H.read_file(ROOT .. "/README.md"))
    local lines, col, rows = {}, nil, {}
    for line in text:gmatch("[^\n]*") do lines[#lines + 1] = line end
    for i, line in ipairs(lines) do
      if line:match("^| target | 6%.1") then
        for j, c in ipairs(cells(line)) do
          if c:match("^(%d+%.%d+)") == running then col = j end
        end
        for k = i + 2, #lines do
          if not lines[k]:match("^|") then break end
          local row = cells(lines[k])
          for name in row[1]:gmatch("[%w_]+") do rows[name] = col and row[col] or false end
        end
        return rows, col
      end
    end
    error("README has no support table")
  end

  it("lists every target, and this kernel's column says what the targets do", function()
    local rows, col = column()
    for _, name in ipairs(bpfiter.target_names) do
      assert.is_not_nil(rows[name], name .. " is not in README's support table")
    end
    if not col then return end -- a kernel the table does not cover
    for _, name in ipairs(bpfiter.target_names) do
      local ok, reason = bpfiter.available(name)
      local cell = rows[name]
      if ok then
        assert.matches("^works", cell, name)
      else
        local needs = reason:match("^needs kernel >= (%d+%.%d+)")
        assert.matches("^not available: needs " .. needs:gsub("%.", "%%.") .. "%f[^%d]", cell, name)
      end
    end
  end)

  it("names the fields this kernel leaves nil", function()
    local rows, col = column()
    if not col then return end
    if bpfiter.available("cgroups") then
      local root = H.collect(bpfiter.cgroups())[1]
      assert.equal(root.nr_tasks == nil, rows.cgroups:find("nr_tasks", 1, true) ~= nil, rows.cgroups)
    end
    local me = H.collect(bpfiter.tasks { pid = tonumber(H.read_file("/proc/self/stat"):match("^%d+")) })[1]
    assert.equal(me.cmdline == nil, rows.tasks:find("`cmdline` nil", 1, true) ~= nil, rows.tasks)
    if bpfiter.available("bpf_links") then
      local any = false
      for _, l in ipairs(H.collect(bpfiter.bpf_links())) do any = any or l.attach_type ~= nil end
      -- this spec's process holds an iter link while it walks the links
      assert.equal(not any, rows.bpf_links:find("no `attach_type`", 1, true) ~= nil, rows.bpf_links)
    end
  end)
end)
