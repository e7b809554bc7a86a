-- Run by spec/15-privileges_spec.lua in a child process under one set of
-- privileges: tries every target, both collectors, pin and open of a view,
-- and prints one line per probe as soon as it is done:
--   NAME <TAB> ok <TAB> records <TAB> seconds [<TAB> note]
--   NAME <TAB> fail <TAB> errno <TAB> seconds <TAB> message   (nil, msg, errno)
--   NAME <TAB> raise <TAB> 0 <TAB> seconds <TAB> message      (an error)
-- args: VIEW (a tasks view to open), MAP (a pinned map's path), MAP_ID,
-- PIN_DIR (a bpffs directory anyone may write), CGROUP (a v2 cgroup path).
local bpfiter = require "bpfiter"
local view, map_path, pin_dir, cgroup = arg[1], arg[2], arg[4], arg[5]
local map_id = math.tointeger(tonumber(arg[3]))
local self = tonumber(io.open("/proc/self/stat"):read("l"):match("^%d+"))
local clock = os.clock  -- CPU time of this process; the spec also times the child

io.stdout:setvbuf("line")

local function report(name, t0, ok, a, b, c)
  local secs = ("%.3f"):format(clock() - t0)
  if not ok then
    print(table.concat({ name, "raise", "0", secs, (tostring(a):gsub("[\t\n]", " ")) }, "\t"))
  elseif a == nil then
    print(table.concat({ name, "fail", tostring(c), secs, (tostring(b):gsub("[\t\n]", " ")) }, "\t"))
  else
    print(table.concat({ name, "ok", tostring(a), secs, b or "" }, "\t"))
  end
end

-- At most 50 records of a walk: the probe is about whether it runs.
local function walk(f, opts, note)
  local step, it, errno = f(opts)
  if not step then return nil, it, errno end
  local n, notes, decided = 0, {}, not note
  for r in step, it do
    n = n + 1
    if not decided then decided = note(r, notes) end
    if n >= 50 and decided then break end
  end
  it:close()
  return n, table.concat(notes, ",")
end

local opts = {
  tasks = { pid = self }, files = { pid = self }, vmas = { pid = self },
  epoll = { pid = self }, cgroups = { root = cgroup },
  -- scope = "open" also walks files and vmas (the files tasks hold)
  cached_files = { scope = "open" },
}
local notes = {
  -- the kernel hides symbol addresses as /proc/kallsyms does; decided at
  -- the first text symbol (6.1 lists per-CPU ones at 0 before any)
  ksyms = function(r, n)
    if r.type ~= "t" and r.type ~= "T" then return false end
    if r.address == 0 then n[1] = "zero addresses" end
    return true
  end,
}

local function probe(name, fn)
  local t0 = clock()
  report(name, t0, pcall(fn))
end

for _, name in ipairs(bpfiter.target_names) do
  if name == "map_elems" then
    probe("map_elems(id)", function() return walk(bpfiter.map_elems, { map = map_id }) end)
    probe("map_elems(path)", function() return walk(bpfiter.map_elems, { map = map_path }) end)
  else
    probe(name, function() return walk(bpfiter[name], opts[name], notes[name]) end)
  end
end
probe("cpu_wait", function()
  local c, msg, errno = bpfiter.cpu_wait { root = cgroup }
  if not c then return nil, msg, errno end
  local rows = c:read()
  c:close()
  return #rows
end)
probe("cache_activity", function()
  local c, msg, errno = bpfiter.cache_activity_collector {}
  if not c then return nil, msg, errno end
  local rows = c:read()
  c:close()
  return #rows
end)
probe("pin", function()
  local path = ("%s/probe-%d"):format(pin_dir, self)
  local ok, msg, errno = bpfiter.pin("tasks", path, { pid = self }, "0644")
  if not ok then return nil, msg, errno end
  local step, it = assert(bpfiter.open(path))
  local n = 0
  for _ in step, it do n = n + 1 end
  assert(bpfiter.unpin(path))
  return n
end)
probe("open", function() return walk(bpfiter.open, view) end)
