-- bpfiter.epoll against epoll sets spawned processes built (spec/epoll_fixture.c),
-- record by record with /proc/PID/fdinfo/EPFD, readlink, stat, and
-- kcmp(KCMP_EPOLL_TFD) (spec/kcmp_helper.c).
local bpfiter = require "bpfiter"
local lfs = require "lfs"
local H = require "helper"

local ESRCH, ENOTSUP = 3, 95

local function spawn(...) return H.spawn("epoll_fixture", ...) end

--- READY lines "set SIZE EPFD" / "child PID EPFD" as {size|pid, epfd} pairs.
local function ready_pairs(fx, key)
  local out = {}
  for a, b in H.read_file(fx.dir .. "/ready"):gmatch(key .. " (%d+) (%d+)") do
    out[#out + 1] = { tonumber(a), tonumber(b) }
  end
  return out
end

--- The items of an epoll fd as fdinfo prints them, in its (the tree's) order:
-- "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x".
local function fdinfo_items(pid, epfd)
  local text = assert(H.read_file(("/proc/%d/fdinfo/%d"):format(pid, epfd)))
  local items = {}
  for tfd, events, data, ino, sdev in
      text:gmatch("tfd:%s*(%d+) events:%s*(%x+) data:%s*(%x+)%s+pos:%-?%d+ ino:(%x+) sdev:(%x+)") do
    items[#items + 1] = {
      tfd = tonumber(tfd), events = tonumber(events, 16),
      data = tonumber(data, 16), -- Lua wraps values above 2^63 as records do
      inode = tonumber(ino, 16), sdev = tonumber(sdev, 16),
    }
  end
  return items
end

--- A userland dev_t (as stat and records give) in the kernel's encoding,
-- major << 20 | minor, as fdinfo prints sdev.
local function kernel_dev(dev)
  local major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
  local minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
  return (major << 20) | minor
end

--- Records of one walk grouped by pid, then epfd, in walk order.
local function by_set(step, it)
  local sets = {}
  for r in assert(step, it) do
    sets[r.pid] = sets[r.pid] or {}
    local list = sets[r.pid][r.epfd] or {}
    sets[r.pid][r.epfd] = list
    list[#list + 1] = r
  end
  return sets
end

--- Asserts that records are exactly fdinfo's items, in order; returns how
-- many. (Compared in plain Lua, asserted once: 100,000 luassert calls
-- would dominate the spec's time.)
local function assert_matches_fdinfo(pid, epfd, records)
  local want = fdinfo_items(pid, epfd)
  local differ = {}
  records = records or {}
  assert.equal(#want, #records, ("pid %d epfd %d: item count"):format(pid, epfd))
  for i, w in ipairs(want) do
    local r = records[i]
    if r.tfd ~= w.tfd or r.events ~= w.events or r.data ~= w.data or r.inode ~= w.inode
        or kernel_dev(r.dev) ~= w.sdev or r.pid ~= pid or r.epfd ~= epfd then
      differ[#differ + 1] = ("item %d: fdinfo tfd %d events %x data %x ino %d sdev %x, "
        .. "record pid %d epfd %d tfd %d events %x data %x inode %d dev %x"):format(
        i, w.tfd, w.events, w.data, w.inode, w.sdev,
        r.pid, r.epfd, r.tfd, r.events, r.data, r.inode, kernel_dev(r.dev))
      if #differ == 5 then break end
    end
  end
  assert.same({}, differ, ("pid %d epfd %d"):format(pid, epfd))
  return #want
end

local names = {
  { 0x001, "EPOLLIN" }, { 0x002, "EPOLLPRI" }, { 0x004, "EPOLLOUT" }, { 0x008, "EPOLLERR" },
  { 0x010, "EPOLLHUP" }, { 0x020, "EPOLLNVAL" }, { 0x040, "EPOLLRDNORM" },
  { 0x080, "EPOLLRDBAND" }, { 0x100, "EPOLLWRNORM" }, { 0x200, "EPOLLWRBAND" },
  { 0x400, "EPOLLMSG" }, { 0x2000, "EPOLLRDHUP" }, { 1 << 27, "EPOLLURING_WAKE" },
  { 1 << 28, "EPOLLEXCLUSIVE" }, { 1 << 29, "EPOLLWAKEUP" }, { 1 << 30, "EPOLLONESHOT" },
  { 1 << 31, "EPOLLET" },
}
local function event_names(mask)
  local out = {}
  for _, n in ipairs(names) do
    if mask & n[1] ~= 0 then out[#out + 1] = n[2] end
  end
  return table.concat(out, "|")
end

--- kcmp(pid, pid, KCMP_EPOLL_TFD, tfd, {epfd, tfd, 0}) for each {pid, epfd, tfd}.
local function kcmp(triples)
  local dir = H.mktemp_dir()
  local input = dir .. "/in"
  local lines = {}
  for i, t in ipairs(triples) do lines[i] = table.concat(t, " ") end
  H.write_file(input, table.concat(lines, "\n") .. "\n")
  local out = H.run(("%s/kcmp_helper < %s"):format(H.build, input))
  H.rm_rf(dir)
  local results = {}
  for v in out:gmatch("%-?%d+") do results[#results + 1] = tonumber(v) end
  return results
end

if not H.available("epoll") then
  describe("epoll", function() it("returns ENOTSUP on this kernel", H.enotsup("epoll")) end)
  return
end

describe("epoll", function()
  describe("sets of 1, 100, 1,000 and 15,000 items in one process", function()
    local fx, sets
    setup(function()
      fx = spawn("sets", "1,100,1000,15000")
      sets = by_set(bpfiter.epoll { pid = fx.pid })[fx.pid] or {}
    end)
    teardown(function() if fx then fx.stop() end end)

    it("yields every item of every set, in fdinfo's order, with its values", function()
      local total = 0
      for _, s in ipairs(ready_pairs(fx, "set")) do
        local size, epfd = s[1], s[2]
        assert.equal(size, assert_matches_fdinfo(fx.pid, epfd, sets[epfd]))
        total = total + size
      end
      assert.equal(16101, total)
    end)

    it("gives distinct data to distinct items and decodes every mask", function()
      local seen, wrong = {}, {}
      for _, list in pairs(sets) do
        for _, r in ipairs(list) do
          if seen[r.data] or event_names(r.events) ~= r.event_names or not r.same_file
              or r.file_fd ~= r.tfd then
            wrong[#wrong + 1] = ("epfd %d tfd %d"):format(r.epfd, r.tfd)
          end
          seen[r.data] = true
        end
      end
      assert.same({}, wrong)
    end)

    it("resolves each target as readlink, stat and files{} see its fd", function()
      local files = H.by(H.collect(bpfiter.files { pid = fx.pid }), "fd")
      local wrong, kinds = {}, {}
      for _, list in pairs(sets) do
        for _, r in ipairs(list) do
          local f = files[r.tfd]
          local link = lfs.symlinkattributes(("/proc/%d/fd/%d"):format(fx.pid, r.tfd)).target
          if link ~= r.path or f.path ~= r.path or f.kind ~= r.kind or f.inode ~= r.inode
              or f.dev ~= r.dev then
            wrong[#wrong + 1] = ("tfd %d: %s %s vs %s %s"):format(r.tfd, tostring(r.path),
              tostring(r.kind), tostring(f.path), tostring(f.kind))
          end
          kinds[r.kind] = true
        end
      end
      assert.same({}, wrong)
      assert.same({ pipe = true, socket = true, eventfd = true, timerfd = true, signalfd = true },
                  kinds)
    end)
  end)

  it("yields sets that fill the ring buffer in the middle of a read", function()
    -- 12 sets of 1,000 after all their targets: one read() meets them all,
    -- ~1 MiB of records against a 1 MiB ring
    local fx = spawn("packed", 12, 1000)
    finally(fx.stop)
    local sets = by_set(bpfiter.epoll { pid = fx.pid })[fx.pid]
    local n = 0
    for _, s in ipairs(ready_pairs(fx, "set")) do
      n = n + assert_matches_fdinfo(fx.pid, s[2], sets[s[2]])
    end
    assert.equal(12000, n)
  end)

  it("yields 100 processes' sets of 1,000 items whole in one system-wide walk", function()
    local fx = spawn("many", 100, 1000)
    finally(fx.stop)
    local sets = by_set(bpfiter.epoll())
    local children, n = ready_pairs(fx, "child"), 0
    assert.equal(100, #children)
    for _, c in ipairs(children) do
      local mine = sets[c[1]] or {}
      n = n + assert_matches_fdinfo(c[1], c[2], mine[c[2]])
    end
    assert.equal(100000, n)
  end)

  describe("targets of every kind, nested, moved and in flight", function()
    local fx, recs, by_tfd, inner
    setup(function()
      fx = spawn("features", "$DIR")
      recs = H.collect(bpfiter.epoll { pid = fx.pid })
      by_tfd = {}
      for _, r in ipairs(recs) do
        if r.epfd == tonumber(fx.info.outer) then by_tfd[r.tfd] = r end
      end
      inner = tonumber(fx.info.inner)
    end)
    teardown(function() if fx then fx.stop() end end)

    local function item(name)
      for line in H.read_file(fx.dir .. "/ready"):gmatch("[^\n]+") do
        local fd = line:match("^item " .. name .. " (%d+)$")
        if fd then return by_tfd[tonumber(fd)] end
      end
      error("no item " .. name)
    end

    it("matches fdinfo for both sets", function()
      local sets = {}
      for _, r in ipairs(recs) do
        sets[r.epfd] = sets[r.epfd] or {}
        table.insert(sets[r.epfd], r)
      end
      assert.equal(17, assert_matches_fdinfo(fx.pid, tonumber(fx.info.outer), sets[tonumber(fx.info.outer)]))
      assert.equal(3, assert_matches_fdinfo(fx.pid, inner, sets[inner]))
    end)

    it("names each target's kind and path as files{} does", function()
      local want = {
        pipe_r = "pipe", pipe_w = "pipe", unix_a = "socket", unix_b = "socket", tcp = "socket",
        udp = "socket", eventfd = "eventfd", timerfd = "timerfd", signalfd = "signalfd",
        inotify = "inotify", pidfd = "pidfd", fifo = "fifo", pty = "chardev", nested = "epoll",
        reused = "eventfd", dup_closed = "eventfd", inflight = "eventfd",
      }
      local files = H.by(H.collect(bpfiter.files { pid = fx.pid }), "fd")
      for name, kind in pairs(want) do
        local r = item(name)
        assert.equal(kind, r.kind, name)
        if r.file_fd then
          assert.equal(files[r.file_fd].kind, r.kind, name)
          assert.equal(files[r.file_fd].path, r.path, name)
          assert.equal(lfs.symlinkattributes(("/proc/%d/fd/%d"):format(fx.pid, r.file_fd)).target,
                       r.path, name)
        end
      end
      assert.equal(fx.dir .. "/fifo", item("fifo").path)
    end)

    it("decodes EPOLLET, EPOLLONESHOT and EPOLLEXCLUSIVE (the kernel adds ERR and HUP)", function()
      assert.equal("EPOLLIN|EPOLLERR|EPOLLHUP|EPOLLET", item("pipe_r").event_names)
      assert.equal("EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLEXCLUSIVE", item("pipe_w").event_names)
      assert.equal("EPOLLIN|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLONESHOT|EPOLLET", item("eventfd").event_names)
      assert.equal("EPOLLIN|EPOLLERR|EPOLLHUP|EPOLLRDHUP|EPOLLONESHOT", item("unix_a").event_names)
      for _, r in ipairs(recs) do assert.equal(event_names(r.events), r.event_names) end
    end)

    it("gives data as 64-bit integers (wrapping above 2^63 like math.tointeger)", function()
      assert.equal(-1, item("nested").data)              -- 0xffffffffffffffff
      assert.equal(math.mininteger, item("unix_a").data) -- 0x8000000000000000
      assert.equal(math.maxinteger, item("unix_b").data)
    end)

    it("answers same_file as kcmp(KCMP_EPOLL_TFD) does", function()
      local triples = {}
      for i, r in ipairs(recs) do triples[i] = { fx.pid, r.epfd, r.tfd } end
      local answers = kcmp(triples)
      assert.equal(#recs, #answers)
      for i, r in ipairs(recs) do
        assert.equal(answers[i] == 0, r.same_file, ("epfd %d tfd %d"):format(r.epfd, r.tfd))
      end
      assert.is_false(item("reused").same_file)
      assert.is_false(item("dup_closed").same_file)
      assert.is_false(item("inflight").same_file)
      assert.is_true(item("pipe_r").same_file)
    end)

    it("finds the item's file at its dup when tfd was closed or now names another file", function()
      local dup_closed, reused = item("dup_closed"), item("reused")
      assert.equal(tonumber(fx.info.dup_closed_dup), dup_closed.file_fd)
      assert.equal(tonumber(fx.info.reused_dup), reused.file_fd)
      assert.is_nil(lfs.symlinkattributes(("/proc/%d/fd/%d"):format(fx.pid, dup_closed.tfd)))
      -- the inode of the dup is the item's (fdinfo's) inode
      for _, r in ipairs({ dup_closed, reused }) do
        local st = lfs.attributes(("/proc/%d/fd/%d"):format(fx.pid, r.file_fd))
        assert.equal(st.ino, r.inode)
        assert.equal("anon_inode:[eventfd]", r.path)
      end
    end)

    it("names a target in no fd of the process from its inode (a file in flight)", function()
      local r = item("inflight")
      assert.is_nil(r.file_fd)
      assert.equal("anon_inode:[eventfd]", r.path)
      assert.equal("eventfd", r.kind)
    end)

    it("reports a nested set with the inner set's identity", function()
      local nested = item("nested")
      local inner_ids = {}
      for _, r in ipairs(recs) do
        if r.epfd == inner then inner_ids[r.epoll_id] = true end
      end
      assert.equal(1, (function() local n = 0 for _ in pairs(inner_ids) do n = n + 1 end return n end)())
      assert.is_true(inner_ids[nested.target_epoll_id])
      assert.equal(inner, nested.file_fd)
      assert.equal("anon_inode:[eventpoll]", nested.path)
      assert.are_not.equal(nested.epoll_id, nested.target_epoll_id)
      for _, r in ipairs(recs) do
        if r ~= nested then assert.is_nil(r.target_epoll_id) end
      end
    end)

    it("filters by epfd", function()
      local got = H.collect(bpfiter.epoll { pid = fx.pid, epfd = inner })
      assert.equal(3, #got)
      for _, r in ipairs(got) do assert.equal(inner, r.epfd) end
      assert.same({}, H.collect(bpfiter.epoll { pid = fx.pid, epfd = 1 }))
    end)

    it("releases its link, fds and ring when a loop breaks early", function()
      local fds, links = H.fd_count(), H.bpf_link_count()
      for _ = 1, 20 do
        for _ in bpfiter.epoll { pid = fx.pid } do break end
      end
      local step, it = bpfiter.epoll { pid = fx.pid }
      step(it)
      it = nil
      collectgarbage(); collectgarbage()
      assert.equal(fds, H.fd_count())
      assert.equal(links, H.bpf_link_count())
    end)
  end)

  describe("errors", function()
    it("raises on bad options", function()
      assert.has_error(function() bpfiter.epoll { epfd = -1 } end,
        "bad argument #1 to 'epoll' (option 'epfd' must be an fd number (>= 0), got -1)")
      assert.has_error(function() bpfiter.epoll { epfd = "3" } end,
        "bad argument #1 to 'epoll' (option 'epfd' must be an integer, got string)")
      assert.has_error(function() bpfiter.epoll { fd = 3 } end,
        "bad argument #1 to 'epoll' (unknown option 'fd' for epoll)")
    end)

    it("returns nil, message, ESRCH for a pid that does not exist", function()
      local step, msg, errno = bpfiter.epoll { pid = 0x3ffffff0 }
      assert.is_nil(step)
      assert.equal(ESRCH, errno)
      assert.matches("epoll: pid 1073741808", msg)
    end)

    it("cannot be pinned: its ring buffer is the loading process's", function()
      local ok, msg, errno = bpfiter.pin("epoll", "/sys/fs/bpf/bpfiter-epoll-spec")
      assert.is_nil(ok)
      assert.equal(ENOTSUP, errno)
      assert.matches("ring buffer", msg)
    end)

    it("yields nothing for a process without epoll sets", function()
      local fx = H.spawn("fixture", "threads", 1, "noepoll")
      finally(fx.stop)
      assert.same({}, H.collect(bpfiter.epoll { pid = fx.pid }))
    end)
  end)

  it("walks sets whose items are added, changed and removed, and that are closed, meanwhile", function()
    -- Threads in the fixture churn a 3,000-item set and create, fill and
    -- close nested sets while we walk: every walk ends, every record is
    -- one the fixture could have made (events always carry ERR|HUP, data
    -- comes from its pattern), and no set yields more than it ever had.
    local fx = spawn("churn")
    finally(fx.stop)
    local big = tonumber(fx.info.big)
    local valid = {}
    for i = 0, 2999 do valid[((i + 1) * 0x9e3779b97f4a7c15) ~ (0xc0de << 48)] = true end
    local walks, wrong = 0, {}
    for w = 1, 200 do
      local per_set = {}
      local opts = w % 20 == 0 and {} or { pid = fx.pid }
      for r in assert(bpfiter.epoll(opts)) do
        if r.pid == fx.pid then
          if r.events & 0x18 ~= 0x18 or not valid[r.data] or r.tfd < 0 or r.tfd >= 20000 then
            wrong[#wrong + 1] = ("epfd %d tfd %d events %x data %x"):format(
              r.epfd, r.tfd, r.events, r.data)
          end
          per_set[r.epfd] = (per_set[r.epfd] or 0) + 1
        end
      end
      for epfd, n in pairs(per_set) do
        if n > (epfd == big and 3000 or 257) then
          wrong[#wrong + 1] = ("set %d: %d items"):format(epfd, n)
        end
      end
      walks = walks + 1
    end
    assert.same({}, wrong)
    assert.equal(200, walks)
  end)
end)
