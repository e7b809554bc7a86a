-- Fields people reach for in ps, ss and lsof, each compared with that tool or
-- /proc on processes and sockets this spec makes: tasks' pgid, sid, tty,
-- start_time, name and wchan; CPU percentages between two walks; tcp's
-- ss -ti and -m fields; socket owners (ss -p) and socket addresses on files
-- records (lsof).
local bpfiter = require "bpfiter"
local H = require "helper"

local function tool(cmd) return H.run("env -u LD_PRELOAD " .. cmd) end

local function find(pred, step, it)
  for r in step, it do
    if pred(r) then return r end
  end
end

describe("tasks as ps and /proc show them", function()
  local dir, pipe, pid
  setup(function()
    -- A sleeper with a controlling terminal (script gives it a pty) in a
    -- session and process group of its own.
    dir = H.mktemp_dir()
    pipe = assert(io.popen(("exec script -qfc 'echo $$ > %s/pid; exec sleep 300' /dev/null >/dev/null 2>&1")
      :format(dir), "w"))
    for _ = 1, 500 do
      pid = tonumber(H.read_file(dir .. "/pid") or "")
      if pid and (H.read_file(("/proc/%d/wchan"):format(pid)) or "0") ~= "0"
        and H.proc_stat(pid)[2] == "sleep" then break end
      H.sleep(0.01)
    end
    assert(pid, "sleeper did not start")
  end)
  teardown(function()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    if pipe then pipe:close() end
    H.rm_rf(dir)
  end)

  it("gives pgid, sid and tty as /proc/PID/stat fields 5, 6 and 7", function()
    local r = find(function(t) return t.pid == pid end, bpfiter.tasks { pid = pid })
    local st = H.proc_stat(pid)
    assert.same({ st[5], st[6], st[7] }, { r.pgid, r.sid, r.tty })
    assert.equal(pid, r.sid)
    assert.is_true(r.tty ~= 0, "the sleeper has a terminal")
  end)

  it("gives pgid, sid and tty of every process as /proc does", function()
    local n = 0
    for r in bpfiter.tasks { threads = false } do
      local st = H.proc_stat(r.pid)
      if st then
        assert.same({ r.pid, st[5], st[6], st[7] }, { r.pid, r.pgid, r.sid, r.tty })
        n = n + 1
      end
    end
    assert.is_true(n > 10)
  end)

  it("gives wchan as /proc/PID/wchan for a task blocked in a sleep", function()
    local r = find(function(t) return t.pid == pid end, bpfiter.tasks { pid = pid })
    local want = H.read_file(("/proc/%d/wchan"):format(pid))
    assert.is_truthy(want:match("sleep"), want)
    assert.equal(want, r.wchan)
  end)

  it("gives no wchan for a task on a CPU, as /proc's 0", function()
    local me = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))
    local r = find(function(t) return t.pid == me end, bpfiter.tasks { pid = me })
    assert.equal("R", r.state)
    assert.is_nil(r.wchan)
  end)

  it("gives start_time as wall-clock seconds: /proc's btime plus start ticks", function()
    local r = find(function(t) return t.pid == pid end, bpfiter.tasks { pid = pid })
    local btime = tonumber(H.read_file("/proc/stat"):match("\nbtime (%d+)"))
    local ticks = tonumber((tool("getconf CLK_TCK")))
    local want = btime + H.proc_stat(pid)[22] / ticks
    -- btime is rounded to a second, start ticks to 1/CLK_TCK.
    assert.is_true(math.abs(r.start_time - want) <= 1 + 1 / ticks,
      ("start_time %f, /proc %f"):format(r.start_time, want))
    assert.is_true(math.abs(r.start_time - os.time()) < 600)
  end)

  it("gives every task's name as /proc/PID/task/TID/comm: full kernel-thread and worker names", function()
    local n, long, proc_long = 0, 0, 0
    -- a worker's description ("-events", "+flush") changes as it runs work
    -- between the two reads: workers compare without it
    local function worker(name) return name:match("^(kworker/[^+-]*)[+-]") or name end
    for r in bpfiter.tasks() do
      local comm = H.read_file(("/proc/%d/task/%d/comm"):format(r.tgid, r.pid))
      if comm then
        comm = comm:gsub("\n$", "")
        assert.equal(worker(comm), worker(r.name))
        n = n + 1
        if #comm > 15 then proc_long = proc_long + 1 end
        if #r.name > 15 then long = long + 1 end
      end
    end
    assert.is_true(n > 10)
    -- kernels that show full names (kworker/R-rcu_gp): so does bpfiter
    if proc_long > 0 then assert.is_true(long > 0, "no kernel thread with a name longer than comm") end
  end)
end)

if not H.has_cmdline() then
  describe("tasks' cmdline before 6.2", function()
    it("is nil for every task (the program without bpf_rcu_read_lock reads no user memory)", function()
      for _, r in ipairs(H.collect(bpfiter.tasks())) do assert.is_nil(r.cmdline) end
    end)
  end)
else
describe("tasks' cmdline as /proc/PID/cmdline", function()
  local function proc_cmdline(pid, tid)
    local text = H.read_file(("/proc/%d/task/%d/cmdline"):format(pid, tid or pid))
    if not text or text == "" then return nil end
    local t = {}
    for a in text:gmatch("([^%z]*)%z") do t[#t + 1] = a end
    local rest = text:match("([^%z]+)$") -- a rewritten area may lack its last NUL
    if rest then t[#t + 1] = rest end
    return t
  end

  -- A shell (argv: sh -c SCRIPT sh0 ARGS...) waiting for its sleep;
  -- returns its pid, its argv, and a function that ends both.
  local function spawn_waiter(args)
    local dir = H.mktemp_dir()
    local script = ("sleep 300 & echo $$ $! > %s/pid; wait"):format(dir)
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = "'" .. a .. "'" end
    local pipe = assert(io.popen(("exec sh -c '%s' sh0 %s >/dev/null 2>&1"):format(script,
      table.concat(quoted, " ")), "w"))
    local pid, child
    for _ = 1, 500 do
      pid, child = (H.read_file(dir .. "/pid") or ""):match("(%d+) (%d+)")
      if pid then break end
      H.sleep(0.01)
    end
    pid, child = tonumber(pid), tonumber(child)
    return pid, { "sh", "-c", script, "sh0", table.unpack(args) }, function()
      os.execute(("kill %d %d 2>/dev/null"):format(child, pid)); pipe:close(); H.rm_rf(dir)
    end
  end

  it("gives the argument list of a process, empty and spaced arguments included", function()
    local pid, argv, stop = spawn_waiter { "", "a b", "x" }
    local ok, err = pcall(function()
      local r = find(function(t) return t.pid == pid end, bpfiter.tasks { pid = pid })
      assert.same(argv, r.cmdline)
      assert.same(proc_cmdline(pid), r.cmdline)
      assert.is_nil(r.cmdline_truncated)
    end)
    stop()
    assert(ok, err)
  end)

  it("cuts a long argument area at 4,000 bytes and says so", function()
    local pid, argv, stop = spawn_waiter { string.rep("x", 3000), string.rep("y", 3000) }
    local ok, err = pcall(function()
      local r = find(function(t) return t.pid == pid end, bpfiter.tasks { pid = pid })
      assert.is_true(r.cmdline_truncated)
      local want = (table.concat(argv, "\0") .. "\0"):sub(1, 4000)
      assert.equal(want, table.concat(r.cmdline, "\0"))
      assert.equal(string.rep("x", 3000), r.cmdline[5])
    end)
    stop()
    assert(ok, err)
  end)

  it("matches /proc for every task, threads included; kernel threads have none", function()
    -- Processes exec meanwhile (other walks, builds): compare the tasks
    -- whose /proc/cmdline reads the same before and after the walk.
    local lfs = require "lfs"
    local function text(list) return list and table.concat(list, "\0") or "(none)" end
    local function snapshot()
      local t = {}
      for p in lfs.dir("/proc") do
        local pid = tonumber(p)
        local ok, tids = pcall(H.proc_tids, pid or -1)
        for _, tid in ipairs(pid and ok and tids or {}) do t[tid] = text(proc_cmdline(pid, tid)) end
      end
      return t
    end
    local before = snapshot()
    local recs = H.collect(bpfiter.tasks())
    local after = snapshot()
    local n, kernel = 0, 0
    for _, r in ipairs(recs) do
      if before[r.pid] and before[r.pid] == after[r.pid] then
        local want = before[r.pid]
        if r.cmdline_truncated then -- longer than 4,000 bytes (CI's own shell -c SCRIPT)
          want = (want .. "\0"):sub(1, 4000):gsub("%z$", "")
        end
        assert.equal(want, text(r.cmdline), "pid " .. r.pid)
        n = n + 1
        if r.kthread then kernel = kernel + 1; assert.is_nil(r.cmdline) end
      end
    end
    assert.is_true(n > 10 and kernel > 0, n .. " compared, " .. kernel .. " kernel threads")
  end)
end)

end

describe("bpfiter.cpu_percent", function()
  local fx
  setup(function() fx = H.spawn("cpu_load", "spin", 1, -1) end)
  teardown(function() if fx then fx.stop() end end)

  it("gives a spinning thread's CPU share between two walks as /proc's utime+stime do", function()
    local tid = tonumber(fx.info.tids:match("%d+"))
    local function ticks()
      local st = H.proc_stat(fx.pid, tid)
      return st[14] + st[15]
    end
    local hz = tonumber((tool("getconf CLK_TCK")))
    local before, t0, c0 = H.collect(bpfiter.tasks { pid = fx.pid }), H.now(), ticks()
    H.sleep(1)
    local after, t1, c1 = H.collect(bpfiter.tasks { pid = fx.pid }), H.now(), ticks()
    bpfiter.cpu_percent(before, after, t1 - t0)
    local r = H.by(after, "pid")[tid]
    local want = (c1 - c0) / hz / (t1 - t0) * 100
    assert.is_true(math.abs(r.cpu_percent - want) < 10,
      ("cpu_percent %.1f, /proc %.1f"):format(r.cpu_percent, want))
    assert.is_true(r.cpu_percent > 10)
  end)

  it("leaves out tasks the first walk did not have", function()
    local after = bpfiter.cpu_percent({}, H.collect(bpfiter.tasks { pid = fx.pid }), 1)
    assert.is_nil(after[1].cpu_percent)
  end)
end)

-- "rtt:0.05/0.025 ... skmem:(r0,rb131072,...)" -> ss's fields by name
local function ss_info(text)
  local i = {}
  local m = { text:match("skmem:%(r(%d+),rb(%d+),t(%d+),tb(%d+),f(%d+),w(%d+),o(%d+),bl(%d+),d(%d+)%)") }
  for k, name in ipairs { "rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc", "wmem_queued",
                          "optmem", "backlog", "drops" } do
    i[name] = tonumber(m[k])
  end
  local rtt, rttvar = text:match(" rtt:([%d.]+)/([%d.]+)")
  i.rtt, i.rttvar = tonumber(rtt), tonumber(rttvar)
  i.cwnd = tonumber(text:match(" cwnd:(%d+)"))
  i.ssthresh = tonumber(text:match(" ssthresh:(%d+)"))
  local retrans, total = text:match(" retrans:(%d+)/(%d+)")
  i.retrans, i.total_retrans = tonumber(retrans) or 0, tonumber(total) or 0
  i.bytes_acked = tonumber(text:match(" bytes_acked:(%d+)")) or 0
  i.bytes_received = tonumber(text:match(" bytes_received:(%d+)")) or 0
  local rate, unit = text:match(" delivery_rate ([%d.]+)([KMG]?)bps")
  i.delivery_bits = rate and tonumber(rate) * (({ K = 1e3, M = 1e6, G = 1e9 })[unit] or 1) or 0
  i.pid = tonumber(text:match("pid=(%d+)"))
  return i
end

--- ss -tinmpe, one entry per socket with an inode: inode -> its text.
local function ss_tcp_info()
  local out, code = tool("ss -H -tinmpe")
  assert(code == 0, out)
  local by, cur = {}, nil
  for line in out:gmatch("[^\n]+") do
    if line:match("^%S") then
      cur = tonumber(line:match(" ino:(%d+)"))
      if cur then by[cur] = line end
    elseif cur then
      by[cur] = by[cur] .. " " .. line
    end
  end
  return by
end

describe("tcp as ss -ti, -m and -p show it", function()
  local fx, recs, ss, inodes
  setup(function()
    fx = H.spawn("sockets", "all", "$DIR")
    local function walk() return H.by(H.collect(bpfiter.tcp()), "inode") end
    -- The fixture's connections are idle: a walk, ss, and another walk that
    -- must agree with the first (else the kernel changed something between).
    for _ = 1, 5 do
      local a = walk()
      ss = ss_tcp_info()
      recs = walk()
      local same = true
      for inode, r in pairs(recs) do
        for k, v in pairs(r) do if a[inode] and a[inode][k] ~= v then same = false end end
      end
      if same then break end
    end
    inodes = {}
    for _, key in ipairs { "tcp4_client", "tcp4_server", "tcp6_client", "tcp6_server" } do
      if fx.info[key] then inodes[#inodes + 1] = tonumber(fx.info[key]:match("^%d+ (%d+)")) end
    end
  end)
  teardown(function() if fx then fx.stop() end end)

  it("gives rtt, rttvar, cwnd, ssthresh, retransmits, bytes and delivery rate as ss -ti", function()
    assert.is_true(#inodes >= 2)
    for _, inode in ipairs(inodes) do
      local r, s = recs[inode], ss_info(assert(ss[inode], "ss has no socket " .. inode))
      assert.near(s.rtt, r.rtt_us / 1000, 0.0005)
      assert.near(s.rttvar, r.rttvar_us / 1000, 0.0005)
      assert.equal(s.cwnd, r.cwnd)
      if s.ssthresh then assert.equal(s.ssthresh, r.ssthresh) else assert.is_true(r.ssthresh >= 0xffff) end
      assert.same({ s.retrans, s.total_retrans, s.bytes_acked, s.bytes_received },
                  { r.retrans, r.total_retrans, r.bytes_acked, r.bytes_received })
      assert.is_true(r.bytes_acked > 0 or r.bytes_received > 0)
      -- ss prints bits per second with three or four digits
      assert.near(s.delivery_bits, r.delivery_rate * 8, math.max(s.delivery_bits * 0.06, 1))
    end
  end)

  it("gives socket memory as ss -m's skmem", function()
    for _, inode in ipairs(inodes) do
      local r, s = recs[inode], ss_info(ss[inode])
      for _, k in ipairs { "rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc", "wmem_queued",
                           "optmem", "backlog", "drops" } do
        assert.equal(s[k], r[k], k .. " of " .. inode)
      end
    end
    local server = recs[inodes[2]]
    assert.is_true(server.rmem_alloc > 0, "the server's unread bytes are charged")
  end)

  it("joins owning processes as ss -p finds them (bpfiter.add_pids: one files walk)", function()
    local list = {}
    for _, r in pairs(recs) do list[#list + 1] = r end
    assert(bpfiter.add_pids(list))
    for _, inode in ipairs(inodes) do
      assert.same({ fx.pid }, recs[inode].pids)
      assert.equal(fx.pid, ss_info(ss[inode]).pid)
    end
    local owners = assert(bpfiter.socket_pids())
    assert.same({ fx.pid }, owners[inodes[1]])
  end)
end)

describe("files with socket addresses, as lsof shows them", function()
  local fx
  setup(function() fx = H.spawn("sockets", "all", "$DIR") end)
  teardown(function() if fx then fx.stop() end end)

  it("bpfiter.add_socket_addresses gives each TCP and UDP fd lsof's NAME", function()
    local recs = assert(bpfiter.add_socket_addresses(H.collect(bpfiter.files { pid = fx.pid })))
    local mine = {}
    for _, r in ipairs(recs) do
      if r.protocol == "tcp" or r.protocol == "udp" then
        -- lsof writes a v4-mapped IPv6 address as the IPv4 one
        local function hp(a, p)
          a = a:match("^::ffff:(%d+%.%d+%.%d+%.%d+)$") or a
          return (a:find(":") and "[" .. a .. "]" or a) .. ":" .. p
        end
        local name = hp(r.local_address, r.local_port)
        if r.remote_port ~= 0 then name = name .. "->" .. hp(r.remote_address, r.remote_port) end
        mine[r.fd] = r.protocol:upper() .. " " .. name
      end
    end
    local out, code = tool(("lsof -nP -a -p %d -i -F ftPn"):format(fx.pid))
    assert(code == 0, out)
    local want, fd, proto = {}, nil, nil
    for line in out:gmatch("[^\n]+") do
      local tag, v = line:sub(1, 1), line:sub(2)
      if tag == "f" then fd = tonumber(v)
      elseif tag == "P" then proto = v
      elseif tag == "n" and fd then want[fd] = proto .. " " .. v:gsub("%*", "0.0.0.0", 1):gsub("^0%.0%.0%.0:", function() return "0.0.0.0:" end) end
    end
    local n = 0
    for k, v in pairs(want) do
      n = n + 1
      if v:match("^%u+ 0%.0%.0%.0") or v:match("%[::%]") then want[k] = nil; mine[k] = nil end
    end
    assert.is_true(n >= 6, "lsof lists " .. n)
    assert.same(want, mine)
  end)

  it("gives unix sockets their path and peer", function()
    local recs = assert(bpfiter.add_socket_addresses(H.collect(bpfiter.files { pid = fx.pid })))
    local listen_inode, path = fx.info.unix_listen:match("^(%d+) (%S+)")
    local hit
    for _, r in ipairs(recs) do
      if r.inode == tonumber(listen_inode) then hit = r end
    end
    assert.same({ "unix", path }, { hit.protocol, hit.socket_path })
  end)
end)
