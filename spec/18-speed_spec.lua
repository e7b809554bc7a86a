-- Projection (the fields option), the streaming CLI (--jsonl, --limit
-- stopping the walk), --where and multi-key --sort: against processes,
-- files and mappings the spec makes, /proc, and full walks.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local lfs = require "lfs"
local H = require "helper"

local cli, cli_err = H.cli, H.cli_err

local function keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function sorted(list)
  local copy = table.move(list, 1, #list, 1, {})
  table.sort(copy)
  return copy
end

local function self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return pid
end

-- Every record of a walk with the given options.
local function walk(target, opts)
  return assert(bpfiter.collect(target, opts))
end

describe("projection: fields = {...}", function()
  local fx
  setup(function() fx = H.fixture("files", "$DIR") end)
  teardown(function() if fx then fx.stop() end end)

  -- The projected walk's records have exactly the asked fields a full
  -- walk's record of the same object has, with the same values.
  local function same_as_full(target, opts, id, fields)
    local full, proj = {}, {}
    for _, r in ipairs(walk(target, opts)) do full[id(r)] = r end
    local p = {}
    for k, v in pairs(opts) do p[k] = v end
    p.fields = fields
    local n = 0
    for _, r in ipairs(walk(target, p)) do
      local f = assert(full[id(r)], target .. ": a record the full walk has not")
      local want = {}
      for _, name in ipairs(fields) do want[name] = f[name] end
      assert.same(want, r)
      proj[id(r)] = true
      n = n + 1
    end
    assert.is_true(n > 0, target)
    for k in pairs(full) do assert.is_true(proj[k], target .. ": missing " .. tostring(k)) end
  end

  it("tasks, files and vmas of a fixture: the asked fields, the full walk's values", function()
    same_as_full("tasks", { pid = fx.pid }, function(r) return r.pid end, { "pid", "comm", "state", "ppid" })
    same_as_full("files", { pid = fx.pid }, function(r) return r.fd end, { "fd", "path" })
    same_as_full("files", { pid = fx.pid }, function(r) return r.fd end, { "fd", "kind", "inode" })
    same_as_full("vmas", { pid = fx.pid }, function(r) return r.start end, { "start", "end", "perms", "path" })
  end)

  -- Program variants (struct target.kernel_work): a walk leaving out a
  -- field that costs kernel work runs a program without that work; the
  -- fields it asks for are still the full walk's.
  it("each costly field alone, and none of them: the full walk's values", function()
    local by_tid = function(r) return r.pid end
    for _, fields in ipairs { { "pid", "exe" }, { "pid", "cmdline", "cmdline_truncated" },
      { "pid", "wchan" }, { "pid", "name", "rss", "nr_threads" } } do
      same_as_full("tasks", { pid = fx.pid }, by_tid, fields)
    end
    -- cwd and root records have no fd (nil, as in the full walk)
    same_as_full("files", { pid = fx.pid, dirs = true }, function(r) return (r.fd or "dir") .. ":" .. r.inode end,
      { "fd", "inode", "mode", "flags", "pos" })
    same_as_full("vmas", { pid = fx.pid }, function(r) return r.start end,
      { "start", "end", "perms", "offset", "inode" })
  end)

  it("variants without the costly fields: values as /proc shows them", function()
    -- tasks: each costly field in a walk of its own, the others skipped
    local exe = lfs.symlinkattributes(("/proc/%d/exe"):format(fx.pid)).target
    for _, r in ipairs(walk("tasks", { pid = fx.pid, fields = { "pid", "exe" } })) do
      assert.same({ "exe", "pid" }, keys(r))
      assert.equal(exe, r.exe)
    end
    local argv = {}
    for a in H.read_file(("/proc/%d/cmdline"):format(fx.pid)):gmatch("([^%z]*)%z") do argv[#argv + 1] = a end
    for _, r in ipairs(walk("tasks", { pid = fx.pid, fields = { "cmdline", "comm" } })) do
      assert.same(H.has_cmdline() and argv or nil, r.cmdline) -- none before 6.2
    end
    for _, r in ipairs(walk("tasks", { pid = fx.pid, fields = { "pid", "name" } })) do
      assert.equal(H.read_file(("/proc/%d/task/%d/comm"):format(fx.pid, r.pid)):gsub("\n$", ""), r.name)
    end
    -- files: no path made, inode and position as fdinfo
    local fds = H.proc_fds(fx.pid)
    local recs = walk("files", { pid = fx.pid, fields = { "fd", "inode", "pos" } })
    assert.equal(#keys(fds), #recs)
    for _, r in ipairs(recs) do
      assert.same({ "fd", "inode", "pos" }, keys(r))
      assert.equal(fds[r.fd].ino, r.inode, "fd " .. r.fd)
      assert.equal(fds[r.fd].pos, r.pos, "fd " .. r.fd)
    end
    -- vmas: no path made, the rest as /proc/PID/maps (less the x86
    -- vsyscall page: the gate area, not a mapping the iterator walks)
    local maps = {}
    for _, m in ipairs(H.proc_maps(fx.pid)) do
      if m.path ~= "[vsyscall]" then maps[#maps + 1] = m end
    end
    recs = walk("vmas", { pid = fx.pid, fields = { "start", "end", "perms", "inode" } })
    assert.equal(#maps, #recs)
    for i, r in ipairs(recs) do
      assert.same({ start = maps[i].start, ["end"] = maps[i]["end"], perms = maps[i].perms,
        inode = maps[i].inode }, r)
    end
  end)

  -- bpftool's view of a program this process loaded.
  local function xlated(id)
    local out = assert(H.run(("bpftool prog show id %d --json"):format(id)))
    return assert(cjson.decode(out).bytes_xlated, out)
  end

  it("a walk asking no costly field runs another, smaller program than a full walk", function()
    local cases = {
      tasks = { cheap = { "pid", "comm" }, one = { "pid", "exe" }, all = { "exe", "cmdline", "wchan", "name" } },
      files = { cheap = { "fd", "inode" }, all = { "path" } },
      vmas = { cheap = { "start", "end" }, all = { "path" } },
    }
    for target, c in pairs(cases) do
      local function program(fields)
        walk(target, { pid = fx.pid, fields = fields })
        return assert(bpfiter.program_info(target, { fields = fields }), target).id
      end
      walk(target, { pid = fx.pid })
      local full = assert(bpfiter.program_info(target), target).id
      local cheap = program(c.cheap)
      assert.are_not.equal(full, cheap, target)
      -- the work left out is not in the verified program (bpftool)
      assert.is_true(xlated(cheap) < xlated(full), target)
      -- asking for every costly field is the full program again
      assert.equal(full, program(c.all), target)
      if c.one then
        local one = program(c.one)
        assert.is_true(one ~= full and one ~= cheap, target)
      end
    end
  end)

  it("a variant is verified once and taken from the program cache by the next process", function()
    local dir, fs = H.private_bpffs()
    finally(function() H.drop_private_bpffs(dir, fs) end)
    local cache = fs .. "/programs"
    local script = dir .. "/child.lua"
    H.write_file(script, [[
      local bpfiter = require "bpfiter"
      local opts = { fields = { "pid", "comm" } }
      local n = 0
      for _ in assert(bpfiter.tasks(opts)) do n = n + 1 end
      local info = bpfiter.program_info("tasks", opts)
      print(n > 0, info.id, info.cached, bpfiter.program_info("tasks"))
    ]])
    local function child()
      local out, code = H.run(("env -u LD_PRELOAD BPFITER_PROGRAM_CACHE='%s' lua5.4 '%s'"):format(cache, script))
      assert.equal(0, code, out)
      local walked, id, cached, full = out:match("^(%S+)\t(%d+)\t(%S+)\t(%S+)\n$")
      assert.equal("true", walked, out)
      assert.equal("nil", full, out) -- the full program was never loaded
      return tonumber(id), cached
    end
    local id1, cached1 = child()
    local id2, cached2 = child()
    assert.equal("false", cached1)
    assert.equal("true", cached2)
    assert.equal(id1, id2)
    -- the one entry is that program, as bpftool sees the pinned file
    local entries = {}
    for e in lfs.dir(cache) do
      if e:match("^tasks%-") then entries[#entries + 1] = e end
    end
    assert.equal(1, #entries)
    local shown = cjson.decode((H.run(("bpftool prog show pinned '%s/%s' --json"):format(cache, entries[1]))))
    assert.equal(id1, shown.id)
  end)

  it("values match /proc for the fixture", function()
    -- a task's pid is its thread id (tgid: the process)
    local recs = walk("tasks", { pid = fx.pid, fields = { "pid", "comm", "ppid" } })
    assert.equal(#H.proc_tids(fx.pid), #recs)
    for _, r in ipairs(recs) do
      assert.same({ "comm", "pid", "ppid" }, keys(r))
      local stat = H.proc_stat(fx.pid, r.pid)
      assert.equal(stat[2], r.comm)
      assert.equal(tonumber(stat[4]), r.ppid)
    end
    local fds = {}
    for _, r in ipairs(walk("files", { pid = fx.pid, fields = { "fd", "path" } })) do fds[r.fd] = r.path end
    for fd, f in pairs(H.proc_fds(fx.pid)) do
      if f.path and f.path:sub(1, 1) == "/" then assert.equal(f.path, fds[fd], "fd " .. fd) end
    end
  end)

  it("every target: a record holds no field it was not asked for", function()
    for _, target in ipairs { "tasks", "files", "vmas", "tcp", "udp", "unix", "netlink", "bpf_progs",
      "bpf_maps", "bpf_links", "ksyms", "kmem_caches" } do
      if not bpfiter.available(target) then goto next end -- its ENOTSUP: spec 14
      local names = bpfiter.fields[target]
      -- one stored field and one derived (the last names are derived ones)
      local asked = { names[1], names[#names] }
      for _, r in ipairs(walk(target, { fields = asked })) do
        for k in pairs(r) do
          assert.is_true(k == asked[1] or k == asked[2], target .. ": " .. k)
        end
      end
      ::next::
    end
  end)

  it("a wrong fields option is an argument error", function()
    for _, bad in ipairs { {}, { "nope" }, { 1 }, "pid" } do
      local ok, err = pcall(bpfiter.tasks, { fields = bad })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("fields", 1, true), err)
    end
  end)
end)

describe("streaming CLI", function()
  local fx
  setup(function() fx = H.fixture("threads", 3, "speedfx") end)
  teardown(function() if fx then fx.stop() end end)

  it("--jsonl: each line one JSON object, the same records as --json", function()
    local args = " --pid " .. fx.pid .. " --fields pid,comm,state"
    local lines, code = cli("tasks --jsonl" .. args)
    assert.equal(0, code)
    local got = {}
    for line in lines:gmatch("([^\n]*)\n") do got[#got + 1] = cjson.decode(line) end
    local arr = cjson.decode((cli("tasks --json" .. args)))
    assert.equal(#H.proc_tids(fx.pid), #got)
    assert.same(arr, got)
    -- bytes that are not UTF-8 stay lossless by --json's rule (a byte array)
    local dir = H.mktemp_dir()
    finally(function() H.rm_rf(dir) end)
    local bad = dir .. "/bad\255name"
    H.write_file(bad, "x")
    local f = assert(io.open(bad))
    finally(function() f:close() end)
    local out = cli(("files --jsonl --pid %d --fields path"):format(self_pid()))
    local found
    for line in out:gmatch("[^\n]+") do
      local r = cjson.decode(line)
      if type(r.path) == "table" then found = string.char(table.unpack(r.path)) end
    end
    assert.equal(bad, found)
  end)

  it("--limit without --sort closes the walk's link before the output ends", function()
    local cli_mod = require "bpfiter.cli"
    local real = io.stdout
    local writes = {}
    io.stdout = { write = function(self, ...)
      writes[#writes + 1] = { text = table.concat({ ... }), links = H.link_fds() }
      return self
    end }
    local ok, status = pcall(cli_mod.main, { "tasks", "--json", "--limit", "2", "--fields", "pid" })
    io.stdout = real
    assert.is_true(ok, status)
    assert.equal(0, status)
    -- the two records were written while the walk's link was open; the
    -- array's end after it was closed, far before the walk's end
    assert.equal(3, #writes)
    assert.equal(1, writes[1].links - H.link_fds())
    assert.equal(1, writes[2].links - H.link_fds())
    assert.equal(0, writes[3].links - H.link_fds())
    assert.equal("\n]\n", writes[3].text)
    assert.is_true(#walk("tasks", { fields = { "pid" } }) > 2)
  end)

  it("--where filters with the record's fields only; bad expressions exit 2", function()
    local out, code = cli(("tasks --csv --fields pid,tgid --where 'tgid == %d and pid ~= tgid'"):format(fx.pid))
    assert.equal(0, code)
    local tids = {}
    for tid in out:gmatch("\n(%d+),") do tids[#tids + 1] = tonumber(tid) end
    local want = {}
    for _, t in ipairs(H.proc_tids(fx.pid)) do if t ~= fx.pid then want[#want + 1] = t end end
    assert.same(sorted(want), sorted(tids))
    -- string methods work through the string metatable
    out = cli(("tasks --csv --fields pid --no-threads --where 'tgid == %d and comm:find(\"speedfx\", 1, true) == 1'")
      :format(fx.pid))
    assert.equal("pid\n" .. fx.pid .. "\n", out)
    for _, bad in ipairs { "'pid =='", "'os.exit(3)'", "'string.rep(\"x\", 1)'", "'nope == 1'",
      "'pid > \"x\"'", "'(function() pid = 1 end)()'" } do
      local err, c = cli_err("tasks --limit 5 --where " .. bad)
      assert.equal(2, c, bad .. ": " .. err)
      assert.truthy(err:find("^bpfiter: %-%-where: "), err)
    end
  end)

  it("--where 'tgid == N' (pushed down to --pid) gives exactly what the filter alone gives", function()
    local function tids(where, extra)
      local out, code = cli(("tasks --csv --fields pid --where '%s'%s"):format(where, extra or ""))
      assert.equal(0, code, where)
      local list = {}
      for tid in out:gmatch("\n(%d+)") do list[#list + 1] = tonumber(tid) end
      return sorted(list)
    end
    local want = sorted(H.proc_tids(fx.pid))
    assert.same(want, tids("tgid == " .. fx.pid))
    -- the same expression in a form not pushed down
    assert.same(want, tids(("tgid == %d and true"):format(fx.pid)))
    -- a thread id is not a tgid: no record, as the filter alone says
    local thread
    for _, t in ipairs(want) do if t ~= fx.pid then thread = t end end
    assert.same({}, tids("tgid == " .. thread))
    -- no such process: an empty result, exit 0, as the filter alone
    local max = tonumber(H.read_file("/proc/sys/kernel/pid_max"))
    assert.same({}, tids("tgid == " .. max))
    -- files: pid is the process
    local out = cli(("files --csv --fields pid,fd --where 'pid == %d'"):format(fx.pid))
    local fds = {}
    for fd in out:gmatch("\n%d+,(%d+)") do fds[#fds + 1] = tonumber(fd) end
    local proc = {}
    for fd in pairs(H.proc_fds(fx.pid)) do proc[#proc + 1] = fd end
    assert.same(sorted(proc), sorted(fds))
  end)

  it("--sort A,-B: several keys, each with its direction", function()
    local out = cli(("tasks --csv --fields comm,pid --where 'tgid == %d' --sort comm,-pid"):format(fx.pid))
    local rows = {}
    for comm, tid in out:gmatch("\n([^,\n]*),(%d+)") do rows[#rows + 1] = { comm, tonumber(tid) } end
    local want = {}
    for _, t in ipairs(H.proc_tids(fx.pid)) do want[#want + 1] = { H.proc_stat(fx.pid, t)[2], t } end
    table.sort(want, function(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] > b[2]
    end)
    assert.same(want, rows)
  end)
end)
