-- bin/bpfiter run as a subprocess, its output compared with fixtures and
-- /proc; usage errors exit 2, failed walks exit 1, both with a message.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local H = require "helper"

local BIN, cli, cli_err = H.bin, H.cli, H.cli_err

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function words(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- A pid below pid_max that no process has, so the kernel accepts the
-- number and then finds nothing.
local function unused_pid()
  local max = tonumber(H.read_file("/proc/sys/kernel/pid_max"))
  for pid = max - 1, 2, -1 do
    if not H.read_file(("/proc/%d/stat"):format(pid)) then return pid end
  end
end

describe("CLI", function()
  it("tasks --json gives every thread of a process with its name", function()
    local fx = H.fixture("threads", 3, "clispec")
    finally(fx.stop)
    local out, code = cli("tasks --pid " .. fx.pid .. " --json")
    assert.equal(0, code)
    local recs = cjson.decode(out)
    assert.equal(4, #recs)
    local comm, tids = {}, {}
    for _, r in ipairs(recs) do
      assert.equal(fx.pid, r.tgid)
      comm[r.pid] = r.comm
      tids[#tids + 1] = r.pid
    end
    table.sort(tids)
    assert.same(H.proc_tids(fx.pid), tids)
    assert.equal("clispec", comm[fx.pid])
    local names = {}
    for tid, name in pairs(comm) do
      if tid ~= fx.pid then names[#names + 1] = name end
    end
    table.sort(names)
    assert.same({ "clispec-1", "clispec-2", "clispec-3" }, names)
  end)

  it("--no-threads keeps one record per process", function()
    local fx = H.fixture("threads", 3, "clispec")
    finally(fx.stop)
    local recs = cjson.decode((cli("tasks --no-threads --pid " .. fx.pid .. " --json")))
    assert.equal(1, #recs)
    assert.equal(fx.pid, recs[1].pid)
    assert.equal(4, recs[1].nr_threads)
  end)

  it("--json with no records is an empty array", function()
    local fx = H.fixture("threads", 1, "clispec")
    finally(fx.stop)
    local out, code = cli("tasks --pid " .. fx.pid .. " --json --limit 0")
    assert.equal(0, code)
    assert.equal("[]", out:match("^%s*(.-)%s*$"))
  end)

  it("--json keeps 64-bit numbers exact", function()
    local fx = H.fixture("maps", 4, "$DIR")
    finally(fx.stop)
    local out = cli("vmas --pid " .. fx.pid .. " --json --fields start")
    local start = tonumber(fx.info.file_map)
    -- Compared as text: cjson 2.1 would decode to a double anyway.
    assert.truthy(out:find('{"start":' .. start .. '}', 1, true))
  end)

  it("--csv has a header and one row per thread", function()
    local fx = H.fixture("threads", 3, "clispec")
    finally(fx.stop)
    local out, code = cli("tasks --pid " .. fx.pid .. " --csv")
    assert.equal(0, code)
    local rows = lines(out)
    assert.equal(5, #rows)
    assert.truthy(rows[1]:find("^pid,tgid,ppid,comm,"))
    local tids = {}
    for i = 2, #rows do tids[#tids + 1] = tonumber(rows[i]:match("^(%d+),")) end
    table.sort(tids)
    assert.same(H.proc_tids(fx.pid), tids)
  end)

  it("--csv quotes values that contain a comma", function()
    local fx = H.fixture("threads", 1, "cli,sv")
    finally(fx.stop)
    local out = cli("tasks --pid " .. fx.pid .. " --csv --fields comm --sort +comm")
    assert.same({ "comm", '"cli,sv"', '"cli,sv-1"' }, lines(out))
  end)

  it("--fields restricts and orders the columns in every format", function()
    local fx = H.fixture("threads", 1, "clispec")
    finally(fx.stop)
    local recs = cjson.decode((cli("tasks --pid " .. fx.pid .. " --json --fields comm,pid")))
    for _, r in ipairs(recs) do
      local keys = {}
      for k in pairs(r) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "comm", "pid" }, keys)
    end
    assert.equal("comm,pid", lines((cli("tasks --pid " .. fx.pid .. " --csv --fields comm,pid")))[1])
    local table_out = lines((cli("tasks --pid " .. fx.pid .. " --fields comm,pid --sort +pid")))
    assert.same({ "comm", "pid" }, words(table_out[1]))
    assert.same({ "clispec", tostring(fx.pid) }, words(table_out[2]))
  end)

  it("the default table has the documented columns and one line per thread", function()
    local fx = H.fixture("threads", 2, "clispec")
    finally(fx.stop)
    local out, code = cli("tasks --pid " .. fx.pid)
    assert.equal(0, code)
    local rows = lines(out)
    assert.same({ "pid", "tgid", "ppid", "state", "comm", "nr_threads", "rss_bytes", "exe" }, words(rows[1]))
    assert.equal(4, #rows)
    for i = 2, 4 do assert.equal(tostring(fx.pid), words(rows[i])[2]) end
  end)

  it("--sort orders numbers descending unless +F, and --limit cuts after sorting", function()
    local fx = H.fixture("threads", 3, "clispec")
    finally(fx.stop)
    local tids = H.proc_tids(fx.pid)
    local down = cjson.decode((cli("tasks --pid " .. fx.pid .. " --json --sort pid --limit 2")))
    assert.same({ tids[4], tids[3] }, { down[1].pid, down[2].pid })
    local up = cjson.decode((cli("tasks --pid " .. fx.pid .. " --json --sort +pid --limit 1")))
    assert.equal(1, #up)
    assert.equal(tids[1], up[1].pid)
    local by_name = cjson.decode((cli("tasks --pid " .. fx.pid .. " --json --sort comm")))
    assert.same({ "clispec", "clispec-1", "clispec-2", "clispec-3" },
      { by_name[1].comm, by_name[2].comm, by_name[3].comm, by_name[4].comm })
    local reversed = cjson.decode((cli("tasks --pid " .. fx.pid .. " --json --sort -comm --limit 1")))
    assert.equal("clispec-3", reversed[1].comm)
  end)

  it("files lists the fds /proc/PID/fd shows, with their paths", function()
    local fx = H.fixture("files", "$DIR")
    finally(fx.stop)
    local recs = cjson.decode((cli("files --pid " .. fx.pid .. " --json")))
    local truth = H.proc_fds(fx.pid)
    local want, got = {}, {}
    for fd in pairs(truth) do want[#want + 1] = fd end
    for _, r in ipairs(recs) do
      got[#got + 1] = r.fd
      assert.equal(truth[r.fd].path, r.path)
    end
    table.sort(want); table.sort(got)
    assert.same(want, got)
  end)

  it("vmas prints /proc/PID/maps addresses in hex, one line per mapping", function()
    local fx = H.fixture("maps", 4, "$DIR")
    finally(fx.stop)
    local maps = {}
    for _, m in ipairs(H.proc_maps(fx.pid)) do
      -- The kernel's vma iterator never visits the gate area.
      if m.path ~= "[vsyscall]" then maps[#maps + 1] = m end
    end
    local rows = lines((cli("vmas --pid " .. fx.pid)))
    assert.equal(#maps + 1, #rows)
    for i, m in ipairs(maps) do
      local w = words(rows[i + 1])
      assert.equal(("0x%x"):format(m.start), w[2])
      assert.equal(m.perms, w[4])
    end
  end)

  it("--help and help TARGET exit 0 and describe the options and fields", function()
    local out, code = cli("--help")
    assert.equal(0, code)
    assert.truthy(out:find("usage: bpfiter", 1, true))
    assert.truthy(out:find("--sort A,-B", 1, true))
    out, code = cli("tasks --help")
    assert.equal(0, code)
    assert.truthy(out:find("nr_threads", 1, true))
    out, code = cli("help vmas")
    assert.equal(0, code)
    assert.truthy(out:find("vm_flags", 1, true))
  end)

  it("version prints the module's version", function()
    local out, code = cli("version")
    assert.equal(0, code)
    assert.equal("bpfiter " .. bpfiter.version .. "\n", out)
  end)

  it("finds its Lua files from the source tree without LUA_PATH or LUA_CPATH", function()
    local out, code = H.run(("env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 %s version")
      :format(BIN))
    assert.equal(0, code)
    assert.equal("bpfiter " .. bpfiter.version .. "\n", out)
  end)

  it("exits 2 with a message for an unknown command or no command", function()
    local err, code = cli_err("frobnicate")
    assert.equal(2, code)
    assert.truthy(err:find("^bpfiter: unknown command 'frobnicate'"))
    err, code = cli_err("")
    assert.equal(2, code)
    assert.truthy(err:find("usage:", 1, true))
  end)

  it("exits 2 with a message for a bad --pid", function()
    for _, bad in ipairs { "abc", "0", "-3", "12x" } do
      local err, code = cli_err("tasks --pid " .. bad)
      assert.equal(2, code)
      assert.truthy(err:find("^bpfiter: %-%-pid"), err)
    end
  end)

  it("exits 2 listing the valid fields for an unknown --fields or --sort name", function()
    local err, code = cli_err("tasks --fields pid,bogus")
    assert.equal(2, code)
    assert.truthy(err:find("^bpfiter: %-%-fields: unknown tasks field 'bogus'"))
    assert.truthy(err:find("nr_threads", 1, true))
    err, code = cli_err("vmas --sort -bogus")
    assert.equal(2, code)
    assert.truthy(err:find("unknown vmas field 'bogus'", 1, true))
    assert.truthy(err:find("perms", 1, true))
  end)

  it("exits 2 for options that do not fit the target or each other", function()
    local err, code = cli_err("files --threads")
    assert.equal(2, code)
    assert.truthy(err:find("^bpfiter: "))
    assert.equal(2, select(2, cli_err("tasks --json --csv")))
    assert.equal(2, select(2, cli_err("tasks --limit many")))
    assert.equal(2, select(2, cli_err("tasks --bogus")))
  end)

  it("exits 1 with the library's message when the pid does not exist", function()
    local pid = unused_pid()
    for _, target in ipairs { "tasks", "files", "vmas" } do
      local err, code = cli_err(target .. " --pid " .. pid)
      assert.equal(1, code)
      assert.truthy(err:find("^bpfiter: " .. target .. ": pid " .. pid .. ": "), err)
    end
  end)

  it("report exits 0 and ranks a 200-thread process in its top by threads, unless /proc shows 5 bigger", function()
    local fx = H.fixture("threads", 200, "clirpt")
    finally(fx.stop)
    local out, code = cli("report")
    assert.equal(0, code)
    local section = out:match("top by threads[^\n]*\n(.-)\n\n")
    assert.truthy(section, out)
    local found, listed, counts = false, lines(section), {}
    for _, l in ipairs(listed) do
      local w = words(l)
      counts[#counts + 1] = tonumber(w[1])
      if tonumber(w[2]) == fx.pid then
        found = true
        assert.equal("201", w[1])
        assert.equal("clirpt", w[3])
      end
    end
    for i = 2, #counts do assert.is_true(counts[i - 1] >= counts[i], section) end
    if not found then
      -- Pushed out of the top 5 by processes with more threads (ties go
      -- to the lower pid): the machine's, not ours. /proc must agree
      -- that 5 others have at least as many (a thread count may move).
      assert.equal(5, #listed, out)
      local others = 0
      for e in require("lfs").dir("/proc") do
        local st = tonumber(e) ~= fx.pid and H.read_file("/proc/" .. e .. "/status")
        local n = st and tonumber(st:match("\nThreads:%s*(%d+)"))
        if n and n >= 201 then others = others + 1 end
      end
      assert.is_true(others >= 5, ("clirpt not listed, and /proc shows %d processes with 201+ threads:\n%s")
        :format(others, section))
    end
    assert.truthy(out:find("%d+ processes, %d+ threads, %d+ kernel threads, %d+ open fds, %d+ mappings"))
    assert.truthy(out:find("open fds by kind: ", 1, true))
  end)

  it("targets lists exactly the kernel's iterator contexts from BTF, marking ours decoded", function()
    local btf = H.run("bpftool btf dump file /sys/kernel/btf/vmlinux")
    local contexts = {}
    -- A target is a bpf_iter_NAME function with a struct bpf_iter__NAME.
    local funcs = {}
    for name in btf:gmatch("FUNC 'bpf_iter_([%w_]+)'") do funcs[name] = true end
    for name in btf:gmatch("STRUCT 'bpf_iter__([%w_]+)'") do
      if funcs[name] then contexts[name] = true end
    end
    local listed = {}
    for _, t in ipairs(cjson.decode((cli("targets --json")))) do
      assert.equal(t.offered, contexts[t.name] == true, t.name)
      if t.offered then listed[t.name] = t end
    end
    for name in pairs(contexts) do assert.is_not_nil(listed[name], name) end
    assert.is_true(listed.task.decoded)
    assert.equal("tasks", listed.task.bpfiter)
    assert.equal("pid", listed.task_vma.options)
  end)

  it("pin, cat and unpin a tasks view; cat gives the fixture's threads, as nobody too", function()
    local fx = H.fixture("threads", 2, "cliview")
    local dir = H.mktemp_dir()
    finally(function()
      os.execute("umount '" .. dir .. "/fs' 2>/dev/null")
      fx.stop()
      H.rm_rf(dir)
    end)
    assert.equal(0, select(2, H.run(("mkdir '%s/fs' && mount -t bpf bpf '%s/fs'"):format(dir, dir))))
    local view = dir .. "/fs/view"
    assert.equal(0, select(2, cli(("pin tasks %s --pid %d --mode 0644"):format(view, fx.pid))))
    local want = H.proc_tids(fx.pid)
    local function tids(json)
      local got = {}
      for _, t in ipairs(cjson.decode(json)) do got[#got + 1] = t.pid end
      table.sort(got)
      return got
    end
    assert.same(want, tids((cli("cat " .. view .. " --json"))))
    os.execute("chmod 755 '" .. dir .. "' '" .. dir .. "/fs'")
    local out = H.run(("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all %s cat %s --json 2>/dev/null")
      :format(BIN, view))
    assert.same(want, tids(out))
    local err, code = cli_err("cat " .. view .. " --pid 1")
    assert.equal(2, code)
    assert.equal("bpfiter: --pid is fixed when the view is pinned\n", err)
    assert.equal(0, select(2, cli("unpin " .. view)))
    assert.equal(1, select(2, cli_err("cat " .. view)))
  end)

  it("cgroups --cpu-wait gives the walk's cgroups with wait statistics", function()
    -- A cgroup of our own holding one thread that naps 5 ms at a time:
    -- it switches in during any window, and its schedstat switch-ins read
    -- around the command bound the waits from above.
    local lfs = require "lfs"
    local cg = ("%s/bpfiter-spec-cli-%d"):format(H.cgroup2_mount(),
      tonumber(H.read_file("/proc/self/stat"):match("^%d+")))
    assert(lfs.mkdir(cg))
    local fx = H.spawn("cpu_load", "nap", 1, 5, -1)
    local origin = H.cgroup2_mount() .. H.read_file("/proc/self/cgroup"):match("\n?0::([^\n]*)")
    finally(function()
      pcall(H.write_file, origin .. "/cgroup.procs", fx.pid)
      fx.stop()
      lfs.rmdir(cg)
    end)
    H.write_file(cg .. "/cgroup.procs", fx.pid)
    local function switches()
      local n = 0
      for _, tid in ipairs(H.proc_tids(fx.pid)) do
        n = n + tonumber(H.read_file(("/proc/%d/task/%d/schedstat"):format(fx.pid, tid)):match("^%d+ %d+ (%d+)"))
      end
      return n
    end
    local first = switches()
    local out, code = cli(("cgroups --cpu-wait 0.2 --root %s --order self --json"):format(cg))
    local bound = switches() - first
    assert.equal(0, code)
    local rows = cjson.decode(out)
    assert.equal(1, #rows)
    assert.equal(lfs.attributes(cg, "ino"), rows[1].id)
    assert.is_true(rows[1].waits > 0 and rows[1].waits <= bound,
      ("%d waits, %d switch-ins around the command"):format(rows[1].waits, bound))
    assert.is_true(rows[1].wait_mean_ns <= rows[1].wait_max_ns)
    local sum = 0 -- the count is the histogram's total
    for _, n in pairs(rows[1].wait_hist) do sum = sum + n end
    assert.equal(sum, rows[1].waits)
  end)

  it("cgroups --cpu-wait tables label microseconds _us; CSV and JSON keep _ns", function()
    local out, code = cli("cgroups --cpu-wait 0.2 --order self")
    assert.equal(0, code)
    local head = words(lines(out)[1])
    assert.same({ "path", "waits", "wait_mean_us", "wait_p50_us", "wait_p90_us", "wait_p99_us", "wait_max_us" }, head)
    local csv = lines((cli("cgroups --cpu-wait 0.2 --order self --csv --fields waits,wait_max_ns")))
    assert.equal("waits,wait_max_ns", csv[1])
  end)

  it("keeps --pid to that process when stdin is closed (the pidfd would be fd 0)", function()
    local fx = H.fixture("threads", 2, "clistdin")
    finally(fx.stop)
    local out, code = H.run(("%s tasks --pid %d --csv --fields tgid,pid <&-"):format(BIN, fx.pid))
    assert.equal(0, code, out)
    local rows = lines(out)
    assert.equal("tgid,pid", rows[1])
    local tids = {}
    for i = 2, #rows do
      local tgid, tid = rows[i]:match("^(%d+),(%d+)$")
      assert.equal(fx.pid, tonumber(tgid), rows[i])
      tids[#tids + 1] = tonumber(tid)
    end
    table.sort(tids)
    assert.same(H.proc_tids(fx.pid), tids)
  end)

  it("has help for every command, exit 0", function()
    for _, args in ipairs { "help report", "help targets", "help cache", "help pin", "help cat", "help unpin",
      "help version", "help help", "report --help", "targets --help", "cache --help", "pin --help",
      "pin tasks --help", "cat --help", "unpin --help", "help pin cgroups", "help programs", "programs --help",
      "help export", "export --help", "help serve", "serve --help" } do
      local out, code = cli(args)
      assert.equal(0, code, args)
      assert.truthy(out:find("usage: bpfiter", 1, true), args)
    end
    assert.truthy((cli("help cgroups")):find("--cpu-wait SECONDS", 1, true))
    assert.truthy((cli("help cgroups")):find("--order pre|post|up|self", 1, true))
    assert.equal(2, select(2, cli_err("help frobnicate")))
  end)

  it("help TARGET lists exactly the target's options, which the parser accepts", function()
    for _, target in ipairs(bpfiter.target_names) do
      local out, code = cli("help " .. target)
      assert.equal(0, code, target)
      local section = out:match("\noptions:\n(.-)\noutput options:")
      local shown = {}
      for line in section:gmatch("[^\n]+") do
        local flag = line:match("^  %-%-([%w%-%[%]]+)")
        if flag then shown[#shown + 1] = (flag:gsub("^%[no%-%]", ""):gsub("%-", "_")) end
      end
      local want = {}
      -- fields, every target's, is the output option --fields
      for _, o in ipairs(bpfiter.options[target]) do
        if o.name ~= "fields" then want[#want + 1] = o.name end
      end
      if target == "cgroups" then
        want[#want + 1] = "cpu_wait"
        want[#want + 1] = "recursive"
      end
      assert.same(want, shown, target)
      local has_pid = false
      for _, o in ipairs(bpfiter.options[target]) do has_pid = has_pid or o.name == "pid" end
      assert.equal(has_pid, out:find("--pid", 1, true) ~= nil, target)
    end
    -- a target without pid refuses it as a usage error
    local err, code = cli_err("tcp --pid 1")
    assert.equal(2, code)
    assert.truthy(err:find("^bpfiter: unknown option '%-%-pid' for tcp"), err)
  end)

  it("accepts --min-pages and --min_pages (help shows --min-pages), 0 included", function()
    if not H.available("cached_files") then return H.enotsup("cached_files")() end
    assert.truthy((cli("help cached_files")):find("--min-pages PAGES", 1, true))
    local dir = H.mktemp_dir()
    finally(function() H.rm_rf(dir) end)
    local f = dir .. "/cached"
    H.write_file(f, ("x"):rep(4096 * 8))
    local n = tonumber(H.run("fincore --bytes --noheadings --output PAGES '" .. f .. "'"):match("%d+"))
    assert.is_true(n > 0)
    for _, spelling in ipairs { "--min-pages", "--min_pages" } do
      local fields = " --json --fields cached --path " .. f
      local recs = cjson.decode((cli("cached_files " .. spelling .. " " .. n .. fields)))
      assert.same({ { cached = n } }, recs)
      recs = cjson.decode((cli("cached_files " .. spelling .. " " .. (n + 1) .. fields)))
      assert.same({}, recs)
      recs = cjson.decode((cli("cache " .. spelling .. " 0" .. fields)))
      assert.same({ { cached = n } }, recs)
    end
    local err, code = cli_err("cache --min-pages -1")
    assert.equal(2, code)
    assert.equal("bpfiter: --min-pages must be an integer >= 0, got -1\n", err)
  end)

  it("targets lists each option once per kernel target", function()
    for _, t in ipairs(cjson.decode((cli("targets --json")))) do
      local seen = {}
      for name in t.options:gmatch("[^,]+") do
        assert.is_nil(seen[name], t.name .. ": " .. t.options)
        seen[name] = true
      end
    end
    local task_file
    for _, t in ipairs(cjson.decode((cli("targets --json")))) do
      if t.name == "task_file" then task_file = t end
    end
    assert.equal("files,epoll", task_file.bpfiter)
    assert.equal("pid,dirs,epfd", task_file.options)  -- files: pid, dirs; epoll: pid, epfd
  end)

  it("usage errors exit 2 with one clean message; failures exit 1", function()
    for args, want in pairs {
      ["map_elems"] = "^bpfiter: %-%-map is required",
      ["map_elems --map -3"] = "^bpfiter: %-%-map must be a positive map id, got %-3",
      ["cgroups --order sideways"] = '^bpfiter: %-%-order must be "pre", "post", "up" or "self"',
      ["cgroups --root 0"] = "^bpfiter: %-%-root must be",
      ["epoll --epfd -1"] = "^bpfiter: %-%-epfd must be",
      ["tasks --pid 12x"] = "^bpfiter: %-%-pid needs an integer",
      ["cache --scope all --pages /etc/passwd --path /"] = "^bpfiter: %-%-pages takes the path itself",
      ["pin tasks"] = "^bpfiter: pin needs one path",
      ["unpin"] = "^bpfiter: unpin needs one path",
    } do
      local err, code = cli_err(args)
      assert.equal(2, code, args .. ": " .. err)
      assert.truthy(err:find(want), args .. ": " .. err)
      assert.is_nil(err:find("%.lua:%d+:"), err)
      assert.is_nil(err:find("bpfiter: bpfiter:", 1, true), err)
      assert.equal(1, select(2, err:gsub("\n", "")), err)
    end
    local err, code = cli_err("cat /nonexistent-bpfiter-view")
    assert.equal(1, code)
    assert.equal("bpfiter: open: /nonexistent-bpfiter-view: No such file or directory\n", err)
  end)

  it("tells an unprivileged cache or cached_files user which privilege is missing", function()
    for _, args in ipairs { "cache", "cached_files", "cache --pages /etc/passwd" } do
      local err, code = H.run(("{ setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " ..
        "--bounding-set=-all %s %s 2>&1 >/dev/null; }"):format(BIN, args))
      assert.equal(1, code, err)
      assert.truthy(err:find("(needs root, or CAP_BPF and CAP_PERFMON)", 1, true), err)
      assert.truthy(err:find("^bpfiter: "), err)
    end
  end)

  it("unpin --help prints help and leaves a view named --help; unpin -- --help removes it", function()
    local dir = H.mktemp_dir()
    finally(function()
      os.execute("umount '" .. dir .. "/fs' 2>/dev/null")
      H.rm_rf(dir)
    end)
    assert.equal(0, select(2, H.run(("mkdir '%s/fs' && mount -t bpf bpf '%s/fs'"):format(dir, dir))))
    local view = dir .. "/fs/--help"
    local bin = H.run("realpath " .. BIN):match("[^\n]+")
    assert.equal(0, select(2, cli(("pin tasks '%s' --pid 1"):format(view))))
    local out, code = H.run(("cd '%s/fs' && %s unpin --help"):format(dir, bin))
    assert.equal(0, code)
    assert.truthy(out:find("usage: bpfiter unpin", 1, true))
    assert.is_not_nil(require("lfs").attributes(view))
    out, code = H.run(("cd '%s/fs' && %s unpin -- --help"):format(dir, bin))
    assert.equal(0, code, out)
    assert.is_nil(require("lfs").attributes(view))
  end)
end)
