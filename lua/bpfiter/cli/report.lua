--- bpfiter report: one screen about this machine, from one walk of tasks,
-- files and vmas, and the page cache's top files.
local bpfiter = require "bpfiter"
local format = require "bpfiter.format"
local common = require "bpfiter.cli.common"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = { { "report", "one-screen summary of this machine" } },
}

function M.help()
  return "usage: bpfiter report\n" ..
    "process, thread, fd and mapping totals and the top 5 of each; the page cache's top 5 files\n"
end

-- The first n entries of a {key=count} map as a ranked list.
local function top(counts, n)
  local list = {}
  for k, v in pairs(counts) do list[#list + 1] = { key = k, value = v } end
  table.sort(list, function(a, b)
    if a.value ~= b.value then return a.value > b.value end
    return a.key < b.key
  end)
  for i = n + 1, #list do list[i] = nil end
  return list
end

local function report()
  local PAGE = bpfiter.page_size
  local walks = {}
  for _, target in ipairs { "tasks", "files", "vmas" } do
    walks[target] = common.call(bpfiter.collect, target, {})
  end

  local comm, threads, rss = {}, {}, {}
  local nproc, nthreads, nkthreads, total_rss = 0, 0, 0, 0
  for _, t in ipairs(walks.tasks) do
    if t.kthread then
      nkthreads = nkthreads + 1
    else
      nthreads = nthreads + 1
      if t.pid == t.tgid then
        nproc = nproc + 1
        comm[t.pid], threads[t.pid], rss[t.pid] = t.comm, t.nr_threads, t.rss
        total_rss = total_rss + t.rss
      end
    end
  end
  local fds, kinds, maps = {}, {}, {}
  for _, f in ipairs(walks.files) do
    fds[f.pid] = (fds[f.pid] or 0) + 1
    kinds[f.kind] = (kinds[f.kind] or 0) + 1
  end
  for _, v in ipairs(walks.vmas) do maps[v.pid] = (maps[v.pid] or 0) + 1 end

  local out = {}
  local function say(fmt, ...) out[#out + 1] = fmt:format(...) end
  say("%d processes, %d threads, %d kernel threads, %d open fds, %d mappings",
    nproc, nthreads, nkthreads, #walks.files, #walks.vmas)
  -- RSS counts shared pages once per process, as ps does, so the sum can
  -- exceed the memory in use.
  say("RSS sum %s", format.bytes(total_rss))
  local function section(title, counts, show)
    say("")
    say("top by %s (%s, pid, comm):", title, title == "RSS" and "size" or "count")
    for _, e in ipairs(top(counts, 5)) do
      -- A process can exit between the task walk and this one.
      say("  %8s  %7d  %s", show and show(e.value) or e.value, e.key, format.escape(comm[e.key] or "?"))
    end
  end
  section("threads", threads)
  section("open files", fds)
  section("mappings", maps)
  section("RSS", rss, format.bytes)
  say("")
  local parts = {}
  for _, e in ipairs(top(kinds, math.huge)) do parts[#parts + 1] = ("%s %d"):format(e.key, e.value) end
  say("open fds by kind: %s", table.concat(parts, ", "))

  -- The page cache: a failure here (an older kernel) leaves the rest.
  local files, err = bpfiter.collect("cached_files", {})
  say("")
  if not files then
    say("page cache: %s", err)
  else
    local total = 0
    for _, f in ipairs(files) do total = total + f.cached end
    table.sort(files, function(a, b) return a.cached > b.cached end)
    say("page cache: %d files, %s (bpfiter cache for more); top 5:", #files, format.bytes(total * PAGE))
    for i = 1, math.min(5, #files) do
      local f = files[i]
      say("  %10s  %s", format.bytes(f.cached * PAGE),
        format.escape(f.path or ("[%s] %s"):format(f.path_error, f.relpath or "")))
    end
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
  return 0
end

function M.run(argv)
  local o, args = parse.parse(argv, 2, {}, "report", M.help)
  if #args > 0 then common.usage_error("report takes no arguments") end
  return report()
end

return M
