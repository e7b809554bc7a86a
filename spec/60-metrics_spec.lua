-- Metrics for fleets: `bpfiter export` checked by Debian's promtool and
-- against /proc and ss; `bpfiter serve` scraped by a real Prometheus server
-- (started here on loopback with its own data directory, stopped after);
-- bad input and hostile HTTP clients.
local bpfiter = require "bpfiter"
local metrics = require "bpfiter.metrics"
local uv = require "luv"
local lfs = require "lfs"
local H = require "helper"

local BIN = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "../bin/bpfiter"

local function temp_dir()
  local dir = H.mktemp_dir()
  finally(function() H.rm_rf(dir) end)
  return dir
end

-- name{labels} value lines of a text exposition -> {name -> {{labels, value}}}
local function parse(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if not line:match("^#") then
      local name, labels, value = line:match("^([%w_]+)(%b{}) (%S+)$")
      if not name then
        name, value = line:match("^([%w_]+) (%S+)$")
        labels = "{}"
      end
      assert.truthy(name, line)
      out[name] = out[name] or {}
      local l = {}
      for k, v in labels:gmatch('([%w_]+)="(.-)"') do l[k] = v end
      table.insert(out[name], { labels = l, value = tonumber(value) })
    end
  end
  return out
end

local function sum(samples, match)
  local s = 0
  for _, x in ipairs(samples or {}) do
    local ok = true
    for k, v in pairs(match or {}) do ok = ok and x.labels[k] == v end
    if ok then s = s + x.value end
  end
  return s
end

-- Threads /proc lists, but those of pid 1, which BPF iterators do not see
-- on this machine (KERNEL-NOTES).
local function proc_threads()
  local n = 0
  for p in lfs.dir("/proc") do
    if p:match("^%d+$") and p ~= "1" then
      local ok, iter, state = pcall(lfs.dir, "/proc/" .. p .. "/task")
      if ok then for t in iter, state do if t:match("^%d+$") then n = n + 1 end end end
    end
  end
  return n
end

local function within(expected, got, fraction, slack)
  assert(math.abs(got - expected) <= expected * fraction + slack,
    ("expected about %d, got %d"):format(expected, got))
end

local function free_port()
  local t = uv.new_tcp()
  assert(t:bind("127.0.0.1", 0))
  local port = t:getsockname().port
  t:close()
  uv.run("nowait")
  return port
end

-- Runs `cmd` in the background; returns its pid. Output goes to log.
local function background(cmd, log)
  local out = H.run(("exec env -u LD_PRELOAD sh -c '%s >%s 2>&1 & echo $!'"):format(cmd, log))
  return assert(tonumber(out:match("%d+")), out)
end

local function wait_for(what, check, seconds)
  for _ = 1, (seconds or 20) * 10 do
    local v = check()
    if v then return v end
    H.sleep(0.1)
  end
  error("timed out waiting for " .. what)
end

-- Sends bytes on a fresh connection; returns what comes back before close.
local function raw_request(port, bytes)
  local client, got, done = uv.new_tcp(), {}, false
  client:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    client:write(bytes)
    client:read_start(function(rerr, chunk)
      if rerr or not chunk then
        done = true
        client:close()
      else
        got[#got + 1] = chunk
      end
    end)
  end)
  local timer = uv.new_timer()
  timer:start(5000, 0, function() done = true end)
  while not done do uv.run("once") end
  timer:close()
  uv.run("nowait")
  return table.concat(got)
end

local function http(port, path, headers)
  return H.run(("curl -s -m 5 %s http://127.0.0.1:%d%s"):format(headers or "", port, path))
end

describe("bpfiter export", function()
  it("writes OpenMetrics ending in # EOF whose counts match /proc and ss", function()
    local out, code = H.run("{ " .. BIN .. " export --window 0.2 2>/dev/null; }")
    assert.equal(0, code, out)
    assert.matches("\n# EOF\n$", out)
    local m = parse(out)
    within(proc_threads(), sum(m.bpfiter_tasks), 0.05, 20)
    local ss = H.run("ss -tanH")
    local tcp = select(2, ss:gsub("\n", ""))
    within(tcp, sum(m.bpfiter_sockets, { protocol = "tcp" }), 0.05, 5)
    assert.is_true(sum(m.bpfiter_open_files) > 0)
    assert.truthy(m.bpfiter_cgroup_cpu_wait_seconds_count, out)
    assert.equal(0, sum(m.bpfiter_scrape_errors_total))
    -- units are in the names (OpenMetrics), declared by # UNIT
    assert.matches("# UNIT bpfiter_cgroup_cpu_wait_seconds seconds\n", out)
  end)

  it("passes promtool check metrics in the Prometheus text format", function()
    local dir = temp_dir()
    local file = dir .. "/bpfiter.prom"
    local out, code = H.run(("%s export --textfile %s --window 0.2 --collectors tasks,open_files,sockets,cgroup_cpu_wait,page_cache --top 5 2>&1")
      :format(BIN, file))
    assert.equal(0, code, out)
    out, code = H.run(("promtool check metrics < %s"):format(file))
    assert.equal(0, code, out)
    -- written atomically: nothing but the file is left in the directory
    local names = {}
    for e in lfs.dir(dir) do if e ~= "." and e ~= ".." then names[#names + 1] = e end end
    assert.same({ "bpfiter.prom" }, names)
  end)

  it("names the top files and sums the page cache with an (other) remainder", function()
    local families = metrics.collect { collectors = { "page_cache" }, top = 3 }
    if not H.available("cached_files") then -- before 6.2: the collector's error only
      local by = {}
      for _, f in ipairs(families) do by[f.name] = f end
      assert.is_nil(by.bpfiter_page_cache_bytes)
      assert.is_not_nil(by.bpfiter_scrape_errors) -- a counter: "_total" is added when written
      return
    end
    local samples = families[1].samples
    assert.equal("bpfiter_page_cache_bytes", families[1].name)
    assert.equal(4, #samples)
    assert.equal("(other)", samples[4].labels[1][2])
    local total = 0
    for _, s in ipairs(samples) do total = total + s.value end
    -- The ground truth: what the kernel counts as page cache.
    local meminfo = H.read_file("/proc/meminfo")
    local cached = (tonumber(meminfo:match("\nCached:%s*(%d+)")) +
      tonumber(meminfo:match("\nBuffers:%s*(%d+)"))) * 1024
    within(cached, total, 0.25, 64 * 1024 * 1024)
    assert.is_true(samples[1].value >= samples[2].value and samples[2].value >= samples[3].value)
  end)

  it("refuses bad options with exit 2 and a message", function()
    for _, args in ipairs { "--collectors nope", "--top -1", "--textfile /tmp/x.txt", "--format xml",
      "--window 0", "--bogus" } do
      local out, code = H.run(("{ %s export %s 2>&1 >/dev/null; }"):format(BIN, args))
      assert.equal(2, code, args)
      assert.matches("^bpfiter: ", out)
      assert.not_matches("bpfiter: bpfiter:", out)
    end
    assert.has_error(function() bpfiter.metrics { collectors = { "nope" } } end,
      "bad argument #1 to 'metrics' (unknown collector 'nope')")
  end)

  it("reports a failing collector and still exports the others", function()
    -- Without privileges every walk fails: the errors counter says which.
    local out, code = H.run(("{ setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all %s export --collectors tasks 2>/dev/null; }")
      :format(BIN))
    assert.equal(0, code, out)
    local m = parse(out)
    assert.is_nil(m.bpfiter_tasks)
    assert.equal(1, sum(m.bpfiter_scrape_errors_total, { collector = "tasks" }))
  end)
end)

describe("bpfiter serve", function()
  local dir, serve_pid, port
  setup(function()
    dir = H.mktemp_dir()
    serve_pid = background(("%s serve --listen 127.0.0.1:0"):format(BIN), dir .. "/serve.log")
    port = wait_for("serve to listen", function()
      return tonumber((H.read_file(dir .. "/serve.log") or ""):match("127%.0%.0%.1:(%d+)/metrics"))
    end)
  end)
  teardown(function()
    if serve_pid then os.execute(("kill %d 2>/dev/null"):format(serve_pid)) end
    H.rm_rf(dir)
  end)

  it("is scraped by a real Prometheus whose queries match a Lua walk", function()
    local pdir = dir .. "/prometheus"
    lfs.mkdir(pdir)
    local web = free_port()
    H.write_file(pdir .. "/prometheus.yml", ([[
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bpfiter
    static_configs:
      - targets: ["127.0.0.1:%d"]
]]):format(port))
    local prom = background(("prometheus --config.file=%s/prometheus.yml --storage.tsdb.path=%s/data --web.listen-address=127.0.0.1:%d"):format(pdir, pdir, web), pdir .. "/log")
    finally(function() os.execute(("kill %d 2>/dev/null; sleep 0.5"):format(prom)) end)
    local function query(q)
      local out = http(web, "/api/v1/query?query=" .. q:gsub("[^%w]", function(c)
        return ("%%%02X"):format(c:byte())
      end))
      return out:match('"value":%[[%d.]+,"([%d.e+-]+)"%]')
    end
    local value = wait_for("Prometheus to scrape bpfiter", function() return query("sum(bpfiter_tasks)") end, 40)
    local walked = 0
    for _ in assert(bpfiter.tasks()) do walked = walked + 1 end
    within(walked, tonumber(value), 0.05, 20)
    -- every family arrived, and the scrape negotiated OpenMetrics
    for _, family in ipairs { "bpfiter_open_files", "bpfiter_sockets", "bpfiter_cgroup_cpu_wait_seconds_bucket",
      "bpfiter_scrape_duration_seconds", "bpfiter_scrape_errors_total" } do
      wait_for(family, function() return query(("count(%s)"):format(family)) end, 10)
    end
    assert.equal("1", query('up{job="bpfiter"}'))
  end)

  it("answers /healthz, 404 elsewhere, and the text format to plain clients", function()
    assert.equal("ok\n", (http(port, "/healthz")))
    assert.matches("^404", (http(port, "/nope", "-o /dev/null -w '%{http_code}'")))
    local head = http(port, "/metrics", "-D - -o /dev/null")
    assert.matches("Content%-Type: text/plain; version=0%.0%.4", head)
    head = http(port, "/metrics", "-D - -o /dev/null -H 'Accept: application/openmetrics-text;version=1.0.0'")
    assert.matches("Content%-Type: application/openmetrics%-text", head)
  end)

  it("is not stalled by a silent client or a malformed request", function()
    -- A client that connects and says nothing holds only its own connection.
    local silent = uv.new_tcp()
    silent:connect("127.0.0.1", port, function() end)
    uv.run("nowait")
    local t0 = os.time()
    assert.matches("bpfiter_tasks", (http(port, "/metrics")))
    assert.is_true(os.time() - t0 < 3)
    silent:close()
    uv.run("nowait")
    assert.matches("^HTTP/1%.1 400", raw_request(port, "NONSENSE\r\n\r\n"))
    assert.matches("^HTTP/1%.1 431", raw_request(port, "GET /metrics HTTP/1.1\r\n" .. ("X: y\r\n"):rep(3000)))
  end)

  it("refuses a port in use and a bad --listen with exit 2", function()
    local out, code = H.run(("%s serve --listen 127.0.0.1:%d 2>&1"):format(BIN, port))
    assert.equal(2, code, out)
    assert.matches("address already in use", out)
    out, code = H.run(("%s serve --listen nonsense 2>&1"):format(BIN))
    assert.equal(2, code, out)
  end)
end)
