--- An HTTP endpoint for Prometheus: GET /metrics and GET /healthz, on
-- libuv's event loop (Debian's lua-luv). libuv gives non-blocking sockets,
-- timers and signals in one well-kept loop, so a slow or silent client only
-- holds its own connection (bounded by a deadline and a header size) and
-- never the others; a scrape itself runs to completion on the loop (it takes
-- milliseconds). Programs are loaded once, by the first scrape, and reused.
--
--   require("bpfiter.serve").serve { host = "127.0.0.1", port = 9469,
--     metrics = { collectors = {...}, top = 20 } }
local uv = require "luv"
local metrics = require "bpfiter.metrics"

local M = {}

M.DEFAULT_HOST = "127.0.0.1"
M.DEFAULT_PORT = 9469

local MAX_HEADER = 8192    -- bytes a request's head may take
local DEADLINE_MS = 5000   -- a client must send its request and read the answer in this

local REASON = { [200] = "OK", [400] = "Bad Request", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error" }

local function response(status, content_type, body, head_only)
  return table.concat {
    ("HTTP/1.1 %d %s\r\n"):format(status, REASON[status]),
    "Content-Type: ", content_type, "\r\n",
    "Content-Length: ", tostring(#body), "\r\n",
    "Connection: close\r\n\r\n",
    head_only and "" or body,
  }
end

-- Prometheus asks for OpenMetrics in its Accept header; anything else
-- (curl, older scrapers) gets the 0.0.4 text format.
local function wants_openmetrics(head)
  local accept = head:lower():match("\r\naccept:%s*([^\r\n]*)")
  return accept ~= nil and accept:find("application/openmetrics-text", 1, true) ~= nil
end

--- The answer to one request head (the bytes up to the empty line).
function M.handle(source, head)
  local method, target = head:match("^(%u+) (%S+) HTTP/1%.[01]\r\n")
  if not method then return response(400, "text/plain", "bad request\n") end
  if method ~= "GET" and method ~= "HEAD" then
    return response(405, "text/plain", "only GET and HEAD\n")
  end
  local path = target:match("^[^?]*")
  local head_only = method == "HEAD"
  if path == "/healthz" then return response(200, "text/plain", "ok\n", head_only) end
  if path ~= "/metrics" then return response(404, "text/plain", "try /metrics\n", head_only) end
  local ok, families = pcall(source.collect, source)
  if not ok then return response(500, "text/plain", tostring(families) .. "\n", head_only) end
  if wants_openmetrics(head) then
    return response(200, metrics.CONTENT_TYPE.openmetrics, metrics.openmetrics(families), head_only)
  end
  return response(200, metrics.CONTENT_TYPE.text, metrics.prometheus_text(families), head_only)
end

local function close(handle)
  if handle and not handle:is_closing() then handle:close() end
end

local function on_connection(server, source)
  local client = uv.new_tcp()
  if not server:accept(client) then return close(client) end
  local timer = uv.new_timer()
  local function finish()
    close(timer)
    close(client)
  end
  local function answer(bytes)
    client:read_stop()
    client:write(bytes, function() client:shutdown(finish) end)
  end
  timer:start(DEADLINE_MS, 0, function() answer(response(408, "text/plain", "too slow\n")) end)
  local chunks, size = {}, 0
  client:read_start(function(err, chunk)
    if err or not chunk then return finish() end
    chunks[#chunks + 1] = chunk
    size = size + #chunk
    local buffered = table.concat(chunks)
    chunks = { buffered }
    local head_end = buffered:find("\r\n\r\n", 1, true)
    if head_end and head_end + 3 <= MAX_HEADER then
      answer(M.handle(source, buffered:sub(1, head_end + 1)))
    elseif size > MAX_HEADER then
      answer(response(431, "text/plain", "request head too large\n"))
    end
  end)
end

--- serve{host =, port =, metrics = {...}, on_listen = function(host, port)}:
-- binds, then runs the loop until SIGINT or SIGTERM. Returns true, or nil,
-- message, errno when it cannot listen (address in use, bad address).
-- Port 0 picks a free port; on_listen is told which.
function M.serve(opts)
  local source = metrics.new(opts.metrics)
  local host, port = opts.host or M.DEFAULT_HOST, opts.port or M.DEFAULT_PORT
  local server = uv.new_tcp()
  local ok, err, name = server:bind(host, port)
  if ok then ok, err, name = server:listen(128, function(lerr)
    if not lerr then on_connection(server, source) end
  end) end
  if not ok then
    close(server)
    uv.run("nowait")
    source:close()
    return nil, ("serve: cannot listen on %s:%d: %s"):format(host, port, err), name
  end
  local addr = server:getsockname()
  if opts.on_listen then opts.on_listen(addr.ip, addr.port) end
  local signals = {}
  for _, sig in ipairs { "sigint", "sigterm" } do
    local s = uv.new_signal()
    s:start(sig, function() uv.stop() end)
    signals[#signals + 1] = s
  end
  uv.run()
  close(server)
  for _, s in ipairs(signals) do close(s) end
  uv.run("nowait")
  source:close()
  return true
end

return M
