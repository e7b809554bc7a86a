-- bpfiter.tcp, udp, unix and netlink against the sockets spec/sockets.c
-- creates (it knows their ports, inodes, owners and queued bytes), field by
-- field with ss -tanpe / -uanpe / -xanpe and /proc/net/netlink.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local H = require "helper"

local OWNER_UID = 65534 -- sockets the fixture fchown()ed

-- System tools run without LD_PRELOAD: under make asan it would put ASan
-- (and its leak check) in them.
local function tool(cmd)
  return H.run("env -u LD_PRELOAD " .. cmd)
end

-- ss's TCP state names -> the kernel's, which bpfiter.tcp gives.
local TCP_STATE = {
  ["ESTAB"] = "ESTABLISHED", ["SYN-SENT"] = "SYN_SENT", ["SYN-RECV"] = "SYN_RECV",
  ["FIN-WAIT-1"] = "FIN_WAIT1", ["FIN-WAIT-2"] = "FIN_WAIT2", ["TIME-WAIT"] = "TIME_WAIT",
  ["UNCONN"] = "CLOSE", ["CLOSE-WAIT"] = "CLOSE_WAIT", ["LAST-ACK"] = "LAST_ACK",
  ["LISTEN"] = "LISTEN", ["CLOSING"] = "CLOSING",
}

local function words(s)
  local t = {}
  for w in (s or ""):gmatch("%S+") do t[#t + 1] = tonumber(w) or w end
  return t
end

-- "127.0.0.1%lo:80", "[::1]:80", "0.0.0.0:*" -> address, port (0 for *)
local function host_port(s)
  local host, port = s:match("^(.*):([^:]+)$")
  host = host:match("^([^%%]*)")
  return host:match("^%[(.*)%]$") or host, tonumber(port) or 0
end

local function tuple(laddr, lport, raddr, rport)
  return ("%s:%d %s:%d"):format(laddr, lport, raddr, rport)
end

--- ss -tanpe or -uanpe lines as records keyed by their 4-tuple.
local function ss_inet(flags)
  local out, code = tool("ss -H " .. flags)
  assert(code == 0, out)
  local by = {}
  for line in out:gmatch("[^\n]+") do
    local w = words(line)
    local laddr, lport = host_port(w[4])
    local raddr, rport = host_port(w[5])
    local r = {
      state = w[1], rx_queue = w[2], tx_queue = w[3],
      local_address = laddr, local_port = lport, remote_address = raddr, remote_port = rport,
      dev = w[4]:match("%%([^:%]]+)"),
      inode = tonumber(line:match(" ino:(%d+)")) or 0,
      uid = tonumber(line:match(" uid:(%d+)")) or 0, -- ss leaves out uid 0
      cookie = tonumber(line:match(" sk:(%x+)") or "", 16),
    }
    by[tuple(laddr, lport, raddr, rport)] = r
  end
  return by
end

local function by_tuple(recs)
  local by = {}
  for _, r in ipairs(recs) do
    by[tuple(r.local_address, r.local_port, r.remote_address, r.remote_port)] = r
  end
  return by
end

--- ss -xanpe lines keyed by inode (ss lists no socket without one).
local function ss_unix()
  local out, code = tool("ss -H -xanpe")
  assert(code == 0, out)
  local by = {}
  for line in out:gmatch("[^\n]+") do
    local w = words(line)
    by[w[6]] = {
      type = w[1], state = w[2], rx_queue = w[3], tx_queue = w[4],
      path = w[5] ~= "*" and w[5] or nil, inode = w[6], peer_inode = w[8],
    }
  end
  return by
end

--- /proc/net/netlink keyed by inode.
local function proc_netlink()
  local by = {}
  for line in H.read_file("/proc/net/netlink"):gmatch("[^\n]+") do
    local w = words(line)
    if w[10] and w[1] ~= "sk" then
      by[w[10]] = {
        protocol = w[2], portid = w[3], groups = tonumber(tostring(w[4]), 16),
        rx_queue = w[5], tx_queue = w[6], drops = w[9], inode = w[10],
      }
    end
  end
  return by
end

local function fixture_words(fx, key)
  return words(fx.info[key])
end

describe("socket targets", function()
  it("are registered and take no option but netns", function()
    for _, name in ipairs { "tcp", "udp", "unix", "netlink" } do
      local found = false
      for _, t in ipairs(bpfiter.target_names) do found = found or t == name end
      assert.is_true(found, name)
    end
    assert.has_error(function() bpfiter.tcp { pid = 1 } end,
      "bad argument #1 to 'tcp' (unknown option 'pid' for tcp)")
    assert.has_error(function() bpfiter.udp { family = "inet" } end,
      "bad argument #1 to 'udp' (unknown option 'family' for udp)")
    assert.has_error(function() bpfiter.unix(1) end,
      "bad argument #1 to 'unix' (table expected, got number)")
    assert.has_error(function() bpfiter.netlink { protocol = 0 } end,
      "bad argument #1 to 'netlink' (unknown option 'protocol' for netlink)")
  end)

  it("refuse to pin unix: a view's reader could not take its records from the ring", function()
    local ok, msg, errno = bpfiter.pin("unix", "/sys/fs/bpf/bpfiter-spec-unix")
    assert.same({ nil, 95 }, { ok, errno }) -- ENOTSUP
    assert.matches("unix cannot be pinned", msg, 1, true)
  end)
end)

describe("tcp, udp, unix and netlink sockets of this network namespace", function()
  local fx, recs
  setup(function()
    fx = H.spawn("sockets", "all", "$DIR")
    recs = {}
    for _, t in ipairs { "tcp", "udp", "unix", "netlink" } do recs[t] = H.collect(bpfiter[t]()) end
  end)
  teardown(function() if fx then fx.stop() end end)

  local function by_inode(list, inode)
    for _, r in ipairs(list) do
      if r.inode == inode then return r end
    end
  end

  -- The fixture's TCP sockets of one family, checked against what it built.
  local function check_tcp(prefix, family, lo, unread)
    local lport, linode, backlog, max = table.unpack(fixture_words(fx, prefix .. "_listen"))
    local cport, cinode, owner = table.unpack(fixture_words(fx, prefix .. "_client"))
    local _, sinode, sunread = table.unpack(fixture_words(fx, prefix .. "_server"))
    local pport, pinode = table.unpack(fixture_words(fx, prefix .. "_pending"))
    local wildcard = family == "inet" and "0.0.0.0" or "::"
    local l, c, s = by_inode(recs.tcp, linode), by_inode(recs.tcp, cinode), by_inode(recs.tcp, sinode)

    assert.same({ family = family, local_address = lo, local_port = lport,
                  remote_address = wildcard, remote_port = 0, state = "LISTEN", uid = 0,
                  rx_queue = backlog, tx_queue = max, inode = linode, ifindex = 0 },
                { family = l.family, local_address = l.local_address, local_port = l.local_port,
                  remote_address = l.remote_address, remote_port = l.remote_port, state = l.state,
                  uid = l.uid, rx_queue = l.rx_queue, tx_queue = l.tx_queue, inode = l.inode,
                  ifindex = l.ifindex })
    assert.same({ lo, cport, lo, lport, "ESTABLISHED", owner, 0, 0 },
                { c.local_address, c.local_port, c.remote_address, c.remote_port, c.state,
                  c.uid, c.rx_queue, c.tx_queue })
    assert.same({ lo, lport, lo, cport, "ESTABLISHED", 0, sunread, 0 },
                { s.local_address, s.local_port, s.remote_address, s.remote_port, s.state,
                  s.uid, s.rx_queue, s.tx_queue })
    assert.equal(unread, sunread)
    assert.equal(pport, by_inode(recs.tcp, pinode).local_port)
    -- The server side of the queued connection has no file yet.
    local queued = by_tuple(recs.tcp)[tuple(lo, lport, lo, pport)]
    assert.same({ "ESTABLISHED", 0 }, { queued.state, queued.inode })
    for _, r in ipairs { l, c, s, queued } do
      assert.is_true(math.type(r.cookie) == "integer" and r.cookie ~= 0)
    end
  end

  -- Every socket of ours on the fixture's ports equals ss's line for it,
  -- and ss has no line there that we lack.
  local function check_against_ss(list, flags, ports, state_name)
    local ss = ss_inet(flags)
    local ours, n = by_tuple(list), 0
    for key, r in pairs(ours) do
      if ports[r.local_port] or ports[r.remote_port] then
        local want = ss[key]
        assert.is_not_nil(want, "ss has no " .. key)
        assert.same({ state_name(want.state), want.rx_queue, want.tx_queue, want.inode,
                      want.uid, want.cookie },
                    { r.state, r.rx_queue, r.tx_queue, r.inode, r.uid, r.cookie }, key)
        n = n + 1
      end
    end
    local m = 0
    for _, w in pairs(ss) do
      if ports[w.local_port] or ports[w.remote_port] then m = m + 1 end
    end
    assert.equal(m, n)
    return n
  end

  local function fixture_ports(prefix, keys)
    local ports = {}
    for _, k in ipairs(keys) do
      local w = fixture_words(fx, prefix .. "_" .. k)
      if w[1] then ports[w[1]] = true end
    end
    return ports
  end

  describe("bpfiter.tcp", function()
    it("gives listening, accepted, connected and queued IPv4 sockets as the fixture made them", function()
      check_tcp("tcp4", "inet", "127.0.0.1", 100)
    end)

    it("gives IPv6 sockets on ::1 likewise", function()
      if fx.info.ipv6 ~= "1" then
        pending("::1 is not available on this machine: IPv6 TCP not checked")
        return
      end
      check_tcp("tcp6", "inet6", "::1", 200)
    end)

    it("shows an IPv6 socket talking to IPv4 with v4-mapped addresses", function()
      local w = fixture_words(fx, "tcp_mapped")
      if not w[1] then
        pending("no IPv6 sockets on this machine")
        return
      end
      local cport, cinode, lport, sinode = table.unpack(w)
      local c, s = by_inode(recs.tcp, cinode), by_inode(recs.tcp, sinode)
      assert.same({ "inet6", "::ffff:127.0.0.1", cport, "::ffff:127.0.0.1", lport },
                  { c.family, c.local_address, c.local_port, c.remote_address, c.remote_port })
      -- the accepting side is a plain IPv4 socket
      assert.same({ "inet", "127.0.0.1", lport, cport },
                  { s.family, s.local_address, s.local_port, s.remote_port })
    end)

    it("matches ss -tanpe field by field, queues and socket cookie included", function()
      local ports = fixture_ports("tcp4", { "listen", "client", "pending" })
      for k, v in pairs(fixture_ports("tcp6", { "listen", "client", "pending" })) do ports[k] = v end
      local m = fixture_words(fx, "tcp_mapped")
      if m[1] then ports[m[1]], ports[m[3]] = true, true end
      local n = check_against_ss(recs.tcp, "-tanpe", ports, function(s) return TCP_STATE[s] end)
      assert.is_true(n >= 9, "sockets compared: " .. n)
    end)
  end)

  describe("bpfiter.udp", function()
    local function check_udp(prefix, family, lo)
      local bport, binode, ifindex = table.unpack(fixture_words(fx, prefix .. "_bound"))
      local kport, kinode, owner = table.unpack(fixture_words(fx, prefix .. "_connected"))
      local b, k = by_inode(recs.udp, binode), by_inode(recs.udp, kinode)
      assert.same({ family, lo, bport, family == "inet" and "0.0.0.0" or "::", 0, "UNCONN", 0, ifindex },
                  { b.family, b.local_address, b.local_port, b.remote_address, b.remote_port,
                    b.state, b.uid, b.ifindex })
      assert.equal(tonumber(H.read_file("/sys/class/net/lo/ifindex")), b.ifindex)
      -- two datagrams (50 + 70 bytes) wait: counted as memory, overhead included
      assert.is_true(b.rx_queue >= 120, "rx_queue " .. b.rx_queue)
      assert.same({ family, lo, kport, lo, bport, "ESTAB", owner, 0, 0, 0 },
                  { k.family, k.local_address, k.local_port, k.remote_address, k.remote_port,
                    k.state, k.uid, k.rx_queue, k.tx_queue, k.ifindex })
    end

    it("gives bound and connected IPv4 sockets as the fixture made them", function()
      check_udp("udp4", "inet", "127.0.0.1")
    end)

    it("gives IPv6 sockets on ::1 likewise", function()
      if fx.info.ipv6 ~= "1" then
        pending("::1 is not available on this machine: IPv6 UDP not checked")
        return
      end
      check_udp("udp6", "inet6", "::1")
    end)

    it("matches ss -uanpe field by field, bound device included", function()
      local ports = fixture_ports("udp4", { "bound", "connected" })
      for k, v in pairs(fixture_ports("udp6", { "bound", "connected" })) do ports[k] = v end
      local n = check_against_ss(recs.udp, "-uanpe", ports, function(s) return s end)
      assert.is_true(n >= 2)
      local ss = ss_inet("-uanpe")
      local b = by_inode(recs.udp, fixture_words(fx, "udp4_bound")[2])
      assert.equal("lo", ss[tuple(b.local_address, b.local_port, b.remote_address, 0)].dev)
    end)
  end)

  describe("bpfiter.unix", function()
    it("gives a path-bound stream listener, its connections and their peers", function()
      local linode, path, backlog, max = table.unpack(fixture_words(fx, "unix_listen"))
      local cinode, owner = table.unpack(fixture_words(fx, "unix_client"))
      local sinode, unread = table.unpack(fixture_words(fx, "unix_server"))
      local pinode = fixture_words(fx, "unix_pending")[1]
      local l, c, s = by_inode(recs.unix, linode), by_inode(recs.unix, cinode), by_inode(recs.unix, sinode)
      assert.same({ "stream", "LISTEN", path, false, backlog, max, 0 },
                  { l.type, l.state, l.path, l.abstract, l.rx_queue, l.tx_queue, l.peer_inode })
      assert.same({ "stream", "ESTAB", nil, sinode, owner, 0 },
                  { c.type, c.state, c.path, c.peer_inode, c.uid, c.rx_queue })
      assert.is_true(c.tx_queue >= unread) -- its unread skb, charged to the sender
      -- the accepted socket shares the listener's address
      assert.same({ "stream", "ESTAB", path, cinode, 0, unread },
                  { s.type, s.state, s.path, s.peer_inode, s.uid, s.rx_queue })
      -- the queued connection's server side has no inode until accepted
      local embryo
      for _, r in ipairs(recs.unix) do
        if r.peer_inode == pinode then embryo = r end
      end
      assert.same({ 0, path, "ESTAB" }, { embryo.inode, embryo.path, embryo.state })
      assert.equal(0, by_inode(recs.unix, pinode).peer_inode)
    end)

    it("shows abstract names with a leading @ and NULs as @, and datagram queues", function()
      local ainode, name, first = table.unpack(fixture_words(fx, "unix_abstract"))
      local dinode, dpath = table.unpack(fixture_words(fx, "unix_dgram"))
      local a, d = by_inode(recs.unix, ainode), by_inode(recs.unix, dinode)
      assert.same({ "dgram", name, true, first, 0 },
                  { a.type, a.path, a.abstract, a.rx_queue, a.peer_inode })
      assert.same({ "dgram", "ESTAB", dpath, false, ainode },
                  { d.type, d.state, d.path, d.abstract, d.peer_inode })
    end)

    it("gives an unnamed seqpacket pair, the bytes of all queued messages", function()
      local q0, q1, queued = table.unpack(fixture_words(fx, "unix_seq"))
      local a, b = by_inode(recs.unix, q0), by_inode(recs.unix, q1)
      assert.same({ "seqpacket", "ESTAB", nil, nil, q1, 0 },
                  { a.type, a.state, a.path, a.abstract, a.peer_inode, a.rx_queue })
      assert.same({ "seqpacket", q0, queued }, { b.type, b.peer_inode, b.rx_queue })
    end)

    it("matches ss -xanpe field by field", function()
      local ss = ss_unix()
      local types = { stream = "u_str", dgram = "u_dgr", seqpacket = "u_seq" }
      local inodes = {}
      for _, key in ipairs { "unix_listen", "unix_client", "unix_server", "unix_pending",
                             "unix_abstract", "unix_dgram" } do
        inodes[#inodes + 1] = fixture_words(fx, key)[1]
      end
      local q = fixture_words(fx, "unix_seq")
      inodes[#inodes + 1], inodes[#inodes + 2] = q[1], q[2]
      for _, ino in ipairs(inodes) do
        local r, w = by_inode(recs.unix, ino), ss[ino]
        assert.is_not_nil(w, "ss has no unix socket " .. ino)
        assert.same({ w.type, w.state, w.path, w.rx_queue, w.tx_queue, w.peer_inode },
                    { types[r.type], r.state, r.path, r.rx_queue, r.tx_queue, r.peer_inode },
                    "inode " .. ino)
      end
    end)
  end)

  describe("bpfiter.netlink", function()
    it("gives the fixture's route sockets: portid, groups, peer and queued bytes", function()
      local ninode, portid, groups = table.unpack(fixture_words(fx, "netlink_subscribed"))
      local cinode, cportid, peer = table.unpack(fixture_words(fx, "netlink_connected"))
      local n, c = by_inode(recs.netlink, ninode), by_inode(recs.netlink, cinode)
      assert.same({ 0, "route", portid, groups, 0 },
                  { n.protocol, n.protocol_name, n.portid, n.groups, n.dst_portid })
      assert.equal(fx.pid, n.portid) -- the first socket of a process autobinds to its pid
      assert.is_true(n.rx_queue > 0) -- the message the other one sent
      assert.same({ 0, cportid, peer, 0, 0 },
                  { c.protocol, c.portid, c.dst_portid, c.groups, c.rx_queue })
    end)

    it("matches /proc/net/netlink field by field", function()
      local proc = proc_netlink()
      for _, key in ipairs { "netlink_subscribed", "netlink_connected" } do
        local ino = fixture_words(fx, key)[1]
        local r, p = by_inode(recs.netlink, ino), proc[ino]
        assert.same({ p.protocol, p.portid, p.groups, p.rx_queue, p.tx_queue, p.drops },
                    { r.protocol, r.portid, r.groups, r.rx_queue, r.tx_queue, r.drops }, key)
      end
    end)

    it("includes the kernel's own sockets", function()
      local kernel_route
      for _, r in ipairs(recs.netlink) do
        if r.protocol_name == "route" and r.portid == 0 and r.inode ~= 0 then kernel_route = r end
      end
      assert.is_not_nil(kernel_route)
    end)
  end)
end)

describe("network namespaces", function()
  -- In a namespace of its own, a Lua process runs the fixture's "states"
  -- mode and walks; everything it made vanishes with the namespace. It
  -- also reads a view this process pinned in its own namespace.
  local result, skip, pin, pinned, pin_err, bpffs_dir, bpffs
  setup(function()
    bpffs_dir, bpffs = H.private_bpffs()  -- the namespace's process shares our mounts
    pin = bpffs .. "/sockets-view"
    pinned, pin_err = bpfiter.pin("tcp", pin)
    local dir = H.mktemp_dir()
    local script, json = dir .. "/walk.lua", dir .. "/result.json"
    local f = assert(io.open(script, "w"))
    -- arg[1]: where to write the result; arg[2]: the view to read, if any
    f:write([[
      local bpfiter, cjson, H = require "bpfiter", require "cjson", require "helper"
      local fx = H.spawn("sockets", "states")
      local ok, err = pcall(function()
        local recs = H.collect(bpfiter.tcp())
        local ss = H.run("env -u LD_PRELOAD ss -H -tanpe")
        local view = arg[2] and H.collect(bpfiter.open(arg[2]))
        local out = assert(io.open(arg[1], "w"))
        out:write(cjson.encode { info = fx.info, tcp = recs, ss = ss, view = view })
        out:close()
      end)
      fx.stop()
      assert(ok, err)
    ]])
    f:close()
    local out, code = H.run(("unshare --net sh -c 'env -u LD_PRELOAD ip link set lo up && exec lua5.4 %s %s %s'")
      :format(script, json, pinned and pin or ""))
    local text = H.read_file(json)
    H.rm_rf(dir)
    if code ~= 0 and out:match("unshare failed") then
      skip = "cannot create a network namespace here: " .. out
    else
      assert(code == 0 and text, out)
      result = cjson.decode(text)
    end
  end)
  teardown(function()
    if pinned then bpfiter.unpin(pin) end
    H.drop_private_bpffs(bpffs_dir, bpffs)
  end)

  local function find(lport, rport)
    for _, r in ipairs(result.tcp) do
      if r.local_port == lport and r.remote_port == rport then return r end
    end
  end

  it("walks the namespace of the process creating the iterator, nothing else", function()
    if skip then pending(skip) return end
    local ss, n = {}, 0
    for line in result.ss:gmatch("[^\n]+") do
      local w = words(line)
      local laddr, lport = host_port(w[4])
      local raddr, rport = host_port(w[5])
      ss[tuple(laddr, lport, raddr, rport)] = { state = TCP_STATE[w[1]], rx_queue = w[2], tx_queue = w[3],
                                                inode = tonumber(line:match(" ino:(%d+)")) or 0 }
      n = n + 1
    end
    assert.equal(n, #result.tcp)
    for _, r in ipairs(result.tcp) do
      local key = tuple(r.local_address, r.local_port, r.remote_address, r.remote_port)
      assert.same(ss[key], { state = r.state, rx_queue = r.rx_queue, tx_queue = r.tx_queue,
                             inode = r.inode }, key)
    end
  end)

  it("reads a pinned view in the namespace of the process opening it, not the pinner's", function()
    if skip then pending(skip) return end
    if not pinned then pending("no pinned view: " .. tostring(pin_err)) return end
    local function tuples(list)
      local t = {}
      for _, r in ipairs(list) do
        t[#t + 1] = tuple(r.local_address, r.local_port, r.remote_address, r.remote_port) .. " " .. r.state
      end
      table.sort(t)
      return t
    end
    assert.is_true(#result.tcp >= 7)
    assert.same(tuples(result.tcp), tuples(result.view))
  end)

  it("gives time-wait socks their substate: TIME_WAIT and FIN_WAIT2, without inode or queues", function()
    if skip then pending(skip) return end
    local tw = words(result.info.time_wait)
    local fw = words(result.info.fin_wait2)
    for _, c in ipairs { { tw, "TIME_WAIT" }, { fw, "FIN_WAIT2" } } do
      local r = find(c[1][1], c[1][2])
      assert.same({ c[2], 0, 0, 0, 0, "127.0.0.1" },
                  { r.state, r.inode, r.uid, r.rx_queue, r.tx_queue, r.remote_address })
    end
    local cw = words(result.info.close_wait)
    local r = find(cw[1], cw[2])
    assert.same({ "CLOSE_WAIT", cw[3] }, { r.state, r.inode })
  end)

  it("gives a connection still in its handshake (a request sock) as SYN_RECV", function()
    if skip then pending(skip) return end
    local lport, cport = table.unpack(words(result.info.syn_recv))
    local r = find(lport, cport)
    assert.same({ "SYN_RECV", 0, "127.0.0.1", "127.0.0.1" },
                { r.state, r.inode, r.local_address, r.remote_address })
    -- the client counts it established already
    assert.equal("ESTABLISHED", find(cport, lport).state)
  end)
end)

describe("walks at scale", function()
  -- spec/socket_walks.lua in a network namespace of its own: about N
  -- sockets of one kind over several processes, walked RUNS times, each
  -- walk compared with what the fixtures made and with /proc/net.
  local function walks(kind, n, procs, runs)
    local dir = H.mktemp_dir()
    local json = dir .. "/result.json"
    local out, code = H.run(("unshare --net sh -c 'env -u LD_PRELOAD ip link set lo up && exec lua5.4 spec/socket_walks.lua %s %s %d %d %d'")
      :format(json, kind, n, procs, runs))
    local text = H.read_file(json)
    H.rm_rf(dir)
    if code ~= 0 and out:match("unshare failed") then
      pending("cannot create a network namespace here: " .. out)
      return
    end
    assert(code == 0 and text, out)
    local result = cjson.decode(text)
    assert.is_true(result.made >= n - 16, "sockets made: " .. result.made)
    assert.equal(0, result.proc_missing) -- the fixtures' sockets are all live
    assert.equal(runs, #result.walks)
    for run, w in ipairs(result.walks) do
      local what = ("%s walk %d of %d (%d records)"):format(kind, run, runs, w.records)
      assert.same({ missed = 0, given_twice = 0 }, { missed = w.missed, given_twice = w.given_twice },
                  what .. ", e.g. missed " .. cjson.encode(w.missing) .. ", twice " .. cjson.encode(w.twice))
      assert.same({ 0, 0 }, { w.not_in_proc, w.proc_not_walked }, what .. ": unlike /proc/net")
    end
    return result
  end

  -- H.scaled: a tenth under emulation (vm-check)
  it(("unix: %d sockets of every type and address kind, all listed 20 times in a row"):format(H.scaled(20000)), function()
    local result = walks("unix", H.scaled(20000), 2, 20)
    if not result then return end
    for _, label in ipairs { "stream_pair", "dgram_pair", "seqpacket_pair", "stream_path_listen",
                             "stream_path_client", "stream_path_server", "seqpacket_abstract_listen",
                             "seqpacket_abstract_client", "seqpacket_abstract_server",
                             "dgram_abstract", "dgram_path", "stream_unbound" } do
      assert.is_true((result.labels[label] or 0) >= H.scaled(500), label)
    end
    assert.equal(0, result.ss_missing)
    assert.same({}, result.unlike_proc)
  end)

  it(("tcp: %d sockets (listeners and connections, IPv4 and IPv6) all listed"):format(H.scaled(10000)), function()
    walks("tcp", H.scaled(10000), 1, 5)
  end)

  it(("udp: %d bound and connected sockets all listed"):format(H.scaled(10000)), function()
    walks("udp", H.scaled(10000), 1, 5)
  end)

  it(("netlink: %d sockets of three protocols all listed"):format(H.scaled(10000)), function()
    walks("netlink", H.scaled(10000), 1, 5)
  end)
end)

describe("every network namespace (netns =)", function()
  -- 40 namespaces (ip netns add: bind-mounted under /run/netns), each with
  -- 20 sockets (5 each of tcp, udp, unix, netlink) that one fixture made
  -- there; ground truth: each namespace's /proc/net files, read inside it.
  local lfs = require "lfs"
  local PID = H.read_file("/proc/self/stat"):match("^%d+")
  local NS, PER_KIND = 40, 5
  local names, inode_of, fx = {}, {}, nil
  local own_ns = function() return lfs.attributes("/proc/thread-self/ns/net", "ino") end

  local function remove()
    if fx then fx.stop() end
    for _, name in ipairs(names) do tool("ip netns del " .. name) end
  end

  setup(function()
    local ok, err = pcall(function()
      local files = {}
      for i = 1, NS do
        names[i] = ("bpfiter-spec-%s-%d"):format(PID, i)
        local out, code = tool("ip netns add " .. names[i])
        assert(code == 0, out)
        files[i] = "/run/netns/" .. names[i]
        inode_of[names[i]] = lfs.attributes(files[i], "ino")
      end
      fx = H.spawn("netns_sockets", PER_KIND, table.concat(files, " "))
      assert.equal(tostring(NS * PER_KIND * 4), fx.info.sockets)
    end)
    if not ok then
      remove()
      error(err)
    end
  end)
  teardown(remove)

  -- Inodes per /proc/net file of a namespace, sorted, as the kernel lists
  -- them there: tcp (with tcp6), udp (with udp6), unix, netlink.
  local COLUMN = { tcp = 10, tcp6 = 10, udp = 10, udp6 = 10, unix = 7, netlink = 10 }
  local KIND = { tcp6 = "tcp", udp6 = "udp" }
  local function proc_net(name)
    local out, code = tool(("ip netns exec %s sh -c 'for f in tcp tcp6 udp udp6 unix netlink; " ..
      "do echo \"== $f\"; cat /proc/net/$f; done'"):format(name))
    assert(code == 0, out)
    local t, file, header = { tcp = {}, udp = {}, unix = {}, netlink = {} }, nil, false
    for line in out:gmatch("[^\n]+") do
      local f = line:match("^== (%S+)")
      if f then
        file, header = f, true
      elseif header then
        header = false
      else
        local list = t[KIND[file] or file]
        list[#list + 1] = words(line)[COLUMN[file]]
      end
    end
    for _, list in pairs(t) do table.sort(list) end
    return t
  end

  local function by_netns(kind, opts)
    local t = {}
    for r in bpfiter[kind](opts) do
      t[r.netns] = t[r.netns] or {}
      table.insert(t[r.netns], r.inode)
    end
    for _, list in pairs(t) do table.sort(list) end
    return t
  end

  it("lists every socket of all 40 namespaces with its namespace's inode, as /proc/net there", function()
    local before = own_ns()
    local walked = {}
    for _, kind in ipairs { "tcp", "udp", "unix", "netlink" } do walked[kind] = by_netns(kind, { netns = "all" }) end
    assert.equal(before, own_ns())
    for _, name in ipairs(names) do
      local want = proc_net(name)
      for kind, list in pairs(want) do
        assert.same(list, walked[kind][inode_of[name]] or {}, name .. " " .. kind)
      end
      assert.equal(PER_KIND, #want.tcp)  -- the fixture's, nothing else in there
    end
    -- and the caller's own namespace, once
    assert.is_table(walked.netlink[before])
  end)

  it("walks one namespace by its file or its inode, and the caller's by default", function()
    local name = names[NS]
    local want = proc_net(name)
    assert.same({ [inode_of[name]] = want.udp }, by_netns("udp", { netns = "/run/netns/" .. name }))
    assert.same({ [inode_of[name]] = want.netlink }, by_netns("netlink", { netns = inode_of[name] }))
    for netns in pairs(by_netns("netlink")) do assert.equal(own_ns(), netns) end
  end)

  it("fails cleanly for what is not a namespace, in the caller's namespace still", function()
    local before = own_ns()
    local step, msg, errno = bpfiter.tcp { netns = "/etc/hostname" }
    assert.is_nil(step)
    assert.matches("^tcp: netns /etc/hostname is not a network namespace", msg)
    assert.equal(22, errno)
    step, msg, errno = bpfiter.unix { netns = 4294967290 }
    assert.is_nil(step)
    assert.matches("no process is in that namespace", msg)
    assert.equal(2, errno)
    assert.has_error(function() bpfiter.udp { netns = true } end)
    assert.equal(before, own_ns())
  end)
end)
