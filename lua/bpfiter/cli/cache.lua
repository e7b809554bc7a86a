--- bpfiter cache: files ranked by page-cache use, system-wide (the
-- cached_files walk); --pages PATH: one file's page map as runs;
-- --activity SECONDS: who filled and evicted each file's cache.
local bpfiter = require "bpfiter"
local format = require "bpfiter.format"
local common = require "bpfiter.cli.common"
local output = require "bpfiter.cli.output"
local parse = require "bpfiter.cli.parse"

local M = {
  synopsis = {
    { "cache [--top N] [--path P] [--scope open] [--json|--csv]", "files ranked by page-cache use, system-wide" },
    { "cache --pages PATH", "one file's page map, as runs of pages" },
    { "cache --activity SECONDS [--top N] [--json]", "who filled and evicted each file's cache" },
  },
}

local OWN = {
  { name = "top", type = "integer", cli = true, arg = "N", help = "the N files that use most (default 20 in a table)" },
  { name = "pages", type = "string", cli = true, arg = "PATH",
    help = "the page map of file PATH as runs of pages with the same flags" },
  { name = "activity", type = "seconds", cli = true, arg = "SECONDS",
    help = "trace the page cache for SECONDS: pages each file gained, lost, refaulted" },
}

local function groups()
  return { bpfiter.options.cached_files, OWN, parse.output }
end

function M.help()
  local lines = { parse.synopsis(M.synopsis) }
  local own = table.move(bpfiter.options.cached_files, 1, #bpfiter.options.cached_files, 1, {})
  table.move(OWN, 1, #OWN, #own + 1, own)
  lines[#lines + 1] = "options (those of cached_files, and the command's own):"
  lines[#lines + 1] = parse.describe(own)
  lines[#lines + 1] = "output options:"
  lines[#lines + 1] = parse.describe(parse.output)
  return table.concat(lines, "\n") .. "\n"
end

-- The page map of o.pages as runs of pages.
local function pages(o)
  local opts = { path = o.pages }
  for k, v in pairs(o.options) do opts[k] = v end
  local valid = { "path", "dev", "inode", "first", "last", "pages", "flags", "evicted", "dirty", "writeback",
    "mapped", "active", "referenced", "workingset", "unevictable", "locked", "uptodate" }
  output.columns["cache --pages"] = { default = { "first", "last", "pages", "flags", "path" } }
  output.check_names("cache --pages", o, valid)
  local runs = common.call(require("bpfiter.pagecache").page_runs, opts)
  local flags = { "evicted", "dirty", "writeback", "mapped", "active", "referenced", "workingset",
                  "unevictable", "locked" }
  for _, r in ipairs(runs) do
    local set = {}
    for _, f in ipairs(flags) do
      if r[f] then set[#set + 1] = f end
    end
    r.flags = table.concat(set, ",")
  end
  return output.write("cache --pages", o, runs, valid)
end

-- Collects for o.activity seconds; the o.top (default 20) inodes that added
-- most pages as flat rows {dev = "MAJ:MIN", inode, generation, added,
-- removed, evicted, refaults, dirtied, tasks = "comm[pid]:pages ...",
-- path, cached}, path and cached (pages in the cache now) from a
-- cached_files walk (best effort: the rows stand without them).
local function activity_rows(o)
  local rows, dropped = common.call(bpfiter.cache_activity, { duration = o.activity, top = 3 })
  for i = #rows, (o.top or 20) + 1, -1 do rows[i] = nil end
  if #rows > 0 then
    local step, it, nothing, closing = bpfiter.cached_files()
    if step then pcall(bpfiter.cache_activity_join, rows, step, it, nothing, closing) end
  end
  local out = {}
  for i, r in ipairs(rows) do
    local tasks = {}
    for j, t in ipairs(r.tasks) do tasks[j] = ("%s[%d]:%d"):format(t.comm, t.pid, t.pages) end
    local c = r.cached
    out[i] = {
      dev = ("%d:%d"):format(r.major, r.minor), inode = r.inode, generation = r.generation,
      added = r.added, removed = r.removed, evicted = r.evicted, refaults = r.refaults,
      dirtied = r.dirtied, tasks = table.concat(tasks, " "),
      path = c and (c.path or c.relpath) or nil, cached = c and c.cached or nil,
    }
  end
  return out, dropped
end

local ACTIVITY_COLUMNS = { "dev", "inode", "added", "removed", "evicted", "refaults", "dirtied", "cached",
  "tasks", "path" }

local function activity(o)
  local valid = table.move(ACTIVITY_COLUMNS, 1, #ACTIVITY_COLUMNS, 1, {})
  valid[#valid + 1] = "generation"
  output.columns["cache --activity"] = { default = ACTIVITY_COLUMNS }
  output.check_names("cache --activity", o, valid)
  local rows, dropped = activity_rows(o)
  if dropped > 0 then
    io.stderr:write(("bpfiter: %d inodes or events did not fit the collector's tables\n"):format(dropped))
  end
  return output.write("cache --activity", o, rows, valid)
end

-- /proc/meminfo's Cached and Buffers (block-device caches), in bytes.
local function meminfo_cached()
  local f = io.open("/proc/meminfo")
  local text = f and f:read("a") or ""
  if f then f:close() end
  local cached, buffers = text:match("\nCached:%s+(%d+) kB"), text:match("\nBuffers:%s+(%d+) kB")
  return cached and tonumber(cached) * 1024, buffers and tonumber(buffers) * 1024
end

function M.run(argv)
  local o = parse.parse(argv, 2, groups(), "cache", M.help)
  if o.pages and o.activity then common.usage_error("choose one of --pages and --activity") end
  if o.top and o.limit then common.usage_error("choose one of --top and --limit") end
  o.limit = o.limit or o.top
  if o.activity then
    if next(o.options) then common.usage_error("--activity takes no cached_files options") end
    return activity(o)
  end
  common.check_options("cached_files", o.options)
  if o.pages and o.options.path then common.usage_error("--pages takes the path itself; drop --path") end
  if o.pages then return pages(o) end

  local PAGE = bpfiter.page_size
  o.limit = o.limit or (o.format == "table" and 20 or nil)
  o.sort = o.sort or "cached"
  local valid = table.move(bpfiter.fields.cached_files, 1, #bpfiter.fields.cached_files, 1, {})
  for _, f in ipairs { "percent", "file" } do valid[#valid + 1] = f end
  local by_pages = function(v) return format.bytes(v * PAGE) end
  output.columns.cache = { default = { "cached", "percent", "dirty", "writeback", "evicted", "mapped", "fstype",
    "file" }, show = { cached = by_pages, dirty = by_pages, writeback = by_pages, evicted = by_pages,
    mapped = by_pages } }
  output.check_names("cache", o, valid)
  local records = common.call(bpfiter.collect, "cached_files", o.options)
  local total = 0
  for _, r in ipairs(records) do
    total = total + r.cached
    r.percent = r.size > 0 and math.min(100, math.floor(r.cached * PAGE * 1000 / r.size + 0.5) / 10) or nil
    r.file = r.path or ("[%s] %s"):format(r.path_error, r.relpath or "")
  end
  if o.format == "table" then
    local cached, buffers = meminfo_cached()
    io.stdout:write(("%d files, %s in the page cache%s\n"):format(#records, format.bytes(total * PAGE),
      cached and buffers and (" (/proc/meminfo: Cached %s + Buffers %s)"):format(format.bytes(cached),
        format.bytes(buffers)) or ""))
  end
  return output.write("cache", o, records, valid)
end

return M
