-- Projection (the fields option), the streaming CLI (--jsonl, --limit
-- stopping the walk), --where and multi-key --sort: against processes,
-- files and mappings the spec makes, /proc, and full walks.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
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
      local names = bpfiter.fields[target]
      -- one stored field and one derived (the last names are derived ones)
      local asked = { names[1], names[#names] }
      for _, r in ipairs(walk(target, { fields = asked })) do
        for k in pairs(r) do
          assert.is_true(k == asked[1] or k == asked[2], target .. ": " .. k)
        end
      end
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
