--- The CLI's fleet commands: `bpfiter export` (one exposition, to stdout or
-- atomically to node_exporter's textfile directory) and `bpfiter serve`
-- (a /metrics endpoint), on the CLI's shared parser. Each takes argv
-- without the command and returns the exit status (0 ok, 1 failure); usage
-- errors raise, and the CLI's main exits 2.
local metrics = require "bpfiter.metrics"

local M = {}

local parse = require "bpfiter.cli.parse"
local common = require "bpfiter.cli.common"

local collector_names = {}
for _, c in ipairs(metrics.collectors) do
  collector_names[#collector_names + 1] = c.name .. (c.default and "" or " (opt-in)")
end

-- The commands' flags, declared once: the shared parser reads them and the
-- help is made from them.
local COMMON = {
  { name = "collectors", type = "string", cli = true, arg = "A,B",
    help = "which to run, of: " .. table.concat(collector_names, ", ") },
  { name = "top", type = "integer", cli = true, arg = "N", help = "page_cache: files named one by one (default 20)" },
  { name = "cgroups", type = "integer", cli = true, arg = "N",
    help = "cgroup_cpu_wait: cgroups with most waits (default 50)" },
  { name = "cgroup_depth", type = "integer", cli = true, arg = "N",
    help = "cgroup_cpu_wait: deepest cgroup level (default 3)" },
}
local FLAGS = {
  export = {
    { name = "textfile", type = "string", cli = true, arg = "PATH.prom",
      help = "write there, in the Prometheus text format, atomically (temp file + rename)" },
    { name = "format", type = "string", cli = true, arg = "openmetrics|prometheus",
      help = "openmetrics (stdout default) or prometheus" },
    { name = "window", type = "seconds", cli = true, arg = "SECONDS",
      help = "run-queue waits are collected this long (default 1)" },
  },
  serve = {
    { name = "listen", type = "string", cli = true, arg = "HOST:PORT",
      help = "address to listen on ([::1]:PORT for IPv6; port 0: any); default 127.0.0.1:9469" },
  },
}

local ABOUT = {
  export = [[
usage: bpfiter export [--textfile PATH.prom] [--format F] [--window SECONDS] [options]
One metrics exposition of this machine: OpenMetrics on stdout, or with
--textfile the Prometheus text format node_exporter's textfile collector
reads, written to PATH.tmp.PID and renamed to PATH (atomic).
]],
  serve = [[
usage: bpfiter serve [--listen HOST:PORT] [options]
An HTTP endpoint: GET /metrics (OpenMetrics when the scraper asks for it,
else the Prometheus text format 0.0.4) and GET /healthz. Loopback only
unless HOST says otherwise. Stops on SIGINT/SIGTERM.
]],
}

M.usage = {}
for cmd, about in pairs(ABOUT) do
  M.usage[cmd] = about .. parse.describe(FLAGS[cmd]) .. "\n" .. parse.describe(COMMON) .. "\n"
end

local function usage_error(fmt, ...) common.usage_error(fmt, ...) end

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
local function parse_args(cmd, argv)
  local o = parse.parse(argv, 1, { FLAGS[cmd], COMMON }, cmd, function() return M.usage[cmd] end)
  local mopts = { top = o.top, cgroups = o.cgroups, cgroup_depth = o.cgroup_depth }
  if o.collectors then
    mopts.collectors = {}
    for name in o.collectors:gmatch("[^,]+") do
      local known = false
      for _, c in ipairs(metrics.collectors) do known = known or c.name == name end
      if not known then usage_error("unknown collector '%s' (see bpfiter %s --help)", name, cmd) end
      mopts.collectors[#mopts.collectors + 1] = name
    end
    if #mopts.collectors == 0 then usage_error("--collectors needs at least one name") end
  end
  if o.format and o.format ~= "openmetrics" and o.format ~= "prometheus" then
    usage_error("--format is openmetrics or prometheus, got %s", o.format)
  end
  if o.window and o.window > 3600 then usage_error("--window needs seconds up to 3600, got %s", o.window) end
  if o.listen then o.host, o.port = parse_listen(o.listen) end
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
  local mopts, o = parse_args(cmd, argv)
  return body(mopts, o)
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
