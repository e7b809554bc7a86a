--- Joins across walks, as ps, ss -p and lsof show them (bpfiter.socket_pids,
-- bpfiter.add_pids, bpfiter.add_socket_addresses, bpfiter.cpu_percent).
-- Each costs the walks it names and nothing per record beyond a table look-up.
local core = require "bpfiter.core"

local M = {}

local function each(target, fn)
  local step, it, _, closing = core[target]()
  if not step then return nil, it end
  local _ <close> = closing
  for r in step, it do fn(r) end
  return true
end

--- One files walk: socket inode -> sorted list of the pids holding it (a
-- process with several fds on one socket is listed once), as ss -p finds
-- them through /proc/PID/fd.
function M.socket_pids()
  local by, seen = {}, {}
  local ok, err = each("files", function(f)
    if f.kind == "socket" and f.fd then
      local key = f.inode .. ":" .. f.pid
      if not seen[key] then
        seen[key] = true
        local list = by[f.inode] or {}
        list[#list + 1] = f.pid
        by[f.inode] = list
      end
    end
  end)
  if not ok then return nil, err end
  for _, list in pairs(by) do table.sort(list) end
  return by
end

--- Sets r.pids on every socket record of `records` (tcp, udp, unix,
-- netlink) that a process holds: one files walk for all of them.
function M.add_pids(records)
  local by, err = M.socket_pids()
  if not by then return nil, err end
  for _, r in ipairs(records) do
    r.pids = r.inode and r.inode ~= 0 and by[r.inode] or nil
  end
  return records
end

--- Sets, on every socket record of a files walk's `records`, the socket's
-- protocol ("tcp", "udp", "unix", "netlink") and its addresses as the socket
-- walks give them: local_address, local_port, remote_address, remote_port
-- for tcp and udp, path and peer_inode for unix, portid for netlink. One walk
-- of each socket target; sockets of other network namespaces stay unjoined.
function M.add_socket_addresses(records)
  local wanted = {}
  for _, r in ipairs(records) do
    if r.kind == "socket" then wanted[r.inode] = r end
  end
  local copy = {
    tcp = { "local_address", "local_port", "remote_address", "remote_port", "state" },
    udp = { "local_address", "local_port", "remote_address", "remote_port", "state" },
    unix = { "path", "peer_inode", "type", "state" },
    netlink = { "portid", "protocol" },
  }
  for _, target in ipairs { "tcp", "udp", "unix", "netlink" } do
    local ok, err = each(target, function(s)
      local f = wanted[s.inode]
      if f then
        f.protocol = target
        for _, k in ipairs(copy[target]) do
          if k == "path" then f.socket_path = s.path
          elseif k == "state" or k == "type" or k == "protocol" then f["socket_" .. k] = s[k]
          else f[k] = s[k] end
        end
      end
    end)
    if not ok then return nil, err end
  end
  return records
end

--- CPU use between two tasks walks taken `seconds` apart, as top and
-- psutil compute it: the share of one CPU each thread (record) ran, from
-- runtime_ns (precise scheduler time), in percent. Sets r.cpu_percent on the
-- records of `current` that `previous` has too (same pid and start time, so
-- a reused pid is not taken for the old task); returns `current`.
function M.cpu_percent(previous, current, seconds)
  assert(type(seconds) == "number" and seconds > 0, "bad argument #3 to 'cpu_percent' (positive number expected)")
  local before = {}
  for _, r in ipairs(previous) do before[r.pid .. ":" .. r.start_time_ns] = r end
  for _, r in ipairs(current) do
    local p = before[r.pid .. ":" .. r.start_time_ns]
    r.cpu_percent = p and (r.runtime_ns - p.runtime_ns) / (seconds * 1e9) * 100 or nil
  end
  return current
end

return M
