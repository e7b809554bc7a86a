--- The CLI's fleet commands: `bpfiter export` (one exposition, to stdout or
-- atomically to node_exporter's textfile directory) and `bpfiter serve`
-- (a /metrics endpoint). Each takes argv without the command and returns
-- the exit status: 0 ok, 1 failure, 2 usage.
local metrics = require "bpfiter.metrics"

local M = {}

local collector_names = {}
for _, c in ipairs(metrics.collectors) do
  collector_names[#collector_names + 1] = c.name .. (c.default and "" or " (opt-in)")
end

local COMMON = ([[
  --collectors a,b,...   which to run, of: %s
  --top N                page_cache: files named one by one (default 20)
  --cgroups N            cgroup_cpu_wait: cgroups with most waits (default 50)
  --cgroup-depth N       cgroup_cpu_wait: deepest cgroup level (default 3)
]]):format(table.concat(collector_names, ", "))

M.usage = {
  export = [[
usage: bpfiter export [--textfile PATH] [--format openmetrics|prometheus]
                      [--window SECONDS] [options]
One metrics exposition of this machine. Without --textfile it goes to
stdout as OpenMetrics; with it, it is written in the Prometheus text format
node_exporter's textfile collector reads, to PATH.tmp.PID, then renamed
to PATH (atomic).
  --textfile PATH        write there (PATH must end in .prom)
  --format F             openmetrics (stdout default) or prometheus
  --window SECONDS       run-queue waits are collected this long (default 1)
]] .. COMMON,
  serve = [[
usage: bpfiter serve [--listen HOST:PORT] [options]
An HTTP endpoint: GET /metrics (OpenMetrics when the scraper asks for it,
else the Prometheus text format 0.0.4) and GET /healthz. Loopback only
unless HOST says otherwise; default 127.0.0.1:9469. Stops on SIGINT/SIGTERM.
  --listen HOST:PORT     address to listen on ([::1]:PORT for IPv6; port 0: any)
]] .. COMMON,
}

local Usage = {}

local function usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end

local function integer(option, word, lo, hi)
  local n = word and word:match("^%d+$") and math.tointeger(tonumber(word))
  if not n or n < lo or n > hi then
    usage_error("%s needs an integer from %d to %d, got %s", option, lo, hi, tostring(word))
  end
  return n
end

local function parse_listen(word)
  local host, port = (word or ""):match("^%[([%x:.]+)%]:(%d+)$")
  if not host then host, port = (word or ""):match("^([%w.%-]+):(%d+)$") end
  port = port and math.tointeger(tonumber(port))
  if not host or not port or port > 65535 then
    usage_error("--listen needs HOST:PORT (e.g. 127.0.0.1:9469 or [::1]:9469), got %s", tostring(word))
  end
  return host, port
end

-- Parses argv for command cmd; returns the metrics options and the rest.
local function parse(cmd, argv)
  local mopts, o = {}, {}
  local i = 1
  while argv[i] do
    local a = argv[i]
    local function value()
      i = i + 1
      if argv[i] == nil then usage_error("%s needs a value", a) end
      return argv[i]
    end
    if a == "-h" or a == "--help" then
      o.help = true
    elseif a == "--collectors" then
      mopts.collectors = {}
      for name in value():gmatch("[^,]+") do
        local known = false
        for _, c in ipairs(metrics.collectors) do known = known or c.name == name end
        if not known then usage_error("unknown collector '%s' (see bpfiter %s --help)", name, cmd) end
        mopts.collectors[#mopts.collectors + 1] = name
      end
      if #mopts.collectors == 0 then usage_error("--collectors needs at least one name") end
    elseif a == "--top" then mopts.top = integer(a, value(), 0, 100000)
    elseif a == "--cgroups" then mopts.cgroups = integer(a, value(), 0, 100000)
    elseif a == "--cgroup-depth" or a == "--cgroup_depth" then
      mopts.cgroup_depth = integer(a, value(), 0, 100000)
    elseif cmd == "export" and a == "--textfile" then o.textfile = value()
    elseif cmd == "export" and a == "--format" then
      o.format = value()
      if o.format ~= "openmetrics" and o.format ~= "prometheus" then
        usage_error("--format is openmetrics or prometheus, got %s", o.format)
      end
    elseif cmd == "export" and a == "--window" then
      local s = tonumber(value())
      if not s or not (s > 0 and s <= 3600) then
        usage_error("--window needs seconds from 0 to 3600, got %s", argv[i])
      end
      o.window = s
    elseif cmd == "serve" and a == "--listen" then o.host, o.port = parse_listen(value())
    else
      usage_error("unknown option '%s' for %s (see bpfiter %s --help)", a, cmd, cmd)
    end
    i = i + 1
  end
  return mopts, o
end

local function fail(message)
  io.stderr:write("bpfiter: ", message, "\n")
  return 1
end

-- Writes text to path atomically: a temporary file beside it, renamed.
local function write_atomically(path, text)
  local stat = io.open("/proc/self/stat")
  local tmp = ("%s.tmp.%d"):format(path, stat:read("n"))
  stat:close()
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not (ok and closed) then
    os.remove(tmp)
    return nil, ("%s: %s"):format(tmp, tostring(werr or cerr))
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

local function run(cmd, argv, body)
  local ok, status = pcall(function()
    local mopts, o = parse(cmd, argv)
    if o.help then
      io.stdout:write(M.usage[cmd])
      return 0
    end
    return body(mopts, o)
  end)
  if ok then return status end
  if getmetatable(status) == Usage then
    io.stderr:write("bpfiter: ", status.message, "\n")
    return 2
  end
  return fail(tostring(status))
end

function M.export(argv)
  return run("export", argv, function(mopts, o)
    if o.textfile and not o.textfile:match("%.prom$") then
      usage_error("--textfile must name a .prom file (node_exporter reads only those), got %s", o.textfile)
    end
    mopts.window = o.window
    local families, failed = metrics.collect(mopts)
    for _, msg in pairs(failed) do io.stderr:write("bpfiter: ", msg, "\n") end
    local format = o.format or (o.textfile and "prometheus" or "openmetrics")
    local text = format == "openmetrics" and metrics.openmetrics(families) or metrics.prometheus_text(families)
    if not o.textfile then
      io.stdout:write(text)
      return 0
    end
    local written, err = write_atomically(o.textfile, text)
    if not written then return fail("export: " .. tostring(err)) end
    return 0
  end)
end

function M.serve(argv)
  return run("serve", argv, function(mopts, o)
    -- Bad options are usage errors here, before anything listens.
    metrics.new(mopts):close()
    local ok, msg = require("bpfiter.serve").serve {
      host = o.host, port = o.port, metrics = mopts,
      on_listen = function(host, port)
        io.stderr:write(("bpfiter: serving http://%s:%d/metrics\n"):format(
          host:find(":", 1, true) and "[" .. host .. "]" or host, port))
      end,
    }
    if not ok then usage_error("%s", msg) end
    return 0
  end)
end

return M
