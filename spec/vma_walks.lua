--- Walks of memory mappings compared with /proc/PID/maps: shared by
-- spec/03-vmas_spec.lua (through a child process with the core of
-- build/exp, whose vmas_open is the open-coded walk) and
-- bench/vmas_open.lua.
local H = require "helper"

local W = {}

local FIELDS = { "start", "end", "perms", "offset", "major", "minor", "inode", "path" }

local function line(r)
  local t = {}
  for i, k in ipairs(FIELDS) do t[i] = tostring(r[k]) end
  return table.concat(t, " ")
end

-- /proc/PID/maps as lines of FIELDS, without the gate area (README,
-- vmas: never a mapping of the process); nil once the process is gone.
local function proc_lines(pid)
  if not H.read_file(("/proc/%d/stat"):format(pid)) then return nil end
  local out = {}
  for _, m in ipairs(H.proc_maps(pid)) do
    if m.path ~= "[vsyscall]" then out[#out + 1] = line(m) end
  end
  return table.concat(out, "\n")
end

local function lines_by_pid(bpfiter, walk, opts)
  local by = {}
  for r in assert(bpfiter[walk](opts)) do
    local l = by[r.pid] or {}
    by[r.pid] = l
    l[#l + 1] = line(r)
  end
  for pid, l in pairs(by) do by[pid] = table.concat(l, "\n") end
  return by
end

local function user_pids(bpfiter)
  local out = {}
  for r in assert(bpfiter.tasks { threads = false, fields = { "pid", "kthread" } }) do
    if not r.kthread then out[#out + 1] = r.pid end
  end
  return out
end

--- Walks `walks` (target names of bpfiter) with opts ({pid = P} or {})
-- between two reads of every process's /proc/PID/maps: where the two reads
-- agree (the process did not change its maps meanwhile), every walk must
-- give exactly them, or this raises. Returns the processes compared and
-- those whose maps changed.
function W.check_same(bpfiter, walks, opts)
  local before = {}
  local list = opts.pid and { opts.pid } or user_pids(bpfiter)
  for _, pid in ipairs(list) do before[pid] = proc_lines(pid) end
  local got = {}
  for i, walk in ipairs(walks) do got[i] = lines_by_pid(bpfiter, walk, opts) end
  local same, changed = 0, 0
  for _, pid in ipairs(list) do
    local want = before[pid]
    if want and want ~= "" and want == proc_lines(pid) then
      for i, walk in ipairs(walks) do
        if (got[i][pid] or "") ~= want then
          error(("%s: pid %d: records differ from /proc/%d/maps"):format(walk, pid, pid))
        end
      end
      same = same + 1
    elseif want ~= "" then
      changed = changed + 1
    end
  end
  return same, changed
end

return W
