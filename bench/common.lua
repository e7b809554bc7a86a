--- What the benchmark scripts share: shell helpers, a monotonic clock
-- (bench/clock.c, compiled at run time: Lua has none), and the alternating
-- median-of-runs comparison.
local H = require "helper"

local C = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."

function C.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

function C.command_output(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

--- Builds bench/clock.c into a temporary directory (its removal is added to
-- `cleanup`); returns the loaded module ({now = ns}) and the .so path.
function C.build_clock(cleanup)
  local dir = H.mktemp_dir()
  cleanup[#cleanup + 1] = function() H.rm_rf(dir) end
  local inc = C.command_output("pkg-config --variable=includedir lua5.4 2>/dev/null"):match("%S+")
  inc = (inc or "/usr/include") .. "/lua5.4"
  local so = dir .. "/bench_clock.so"
  local cmd = ("%s -O2 -shared -fPIC -I%s -o %s %s 2>&1"):format(os.getenv("CC") or "cc",
    C.shell_quote(inc), C.shell_quote(so), C.shell_quote(here .. "/clock.c"))
  local out = C.command_output(cmd)
  local open = package.loadlib(so, "luaopen_bench_clock")
  assert(open, "could not build bench/clock.c: " .. cmd .. "\n" .. out)
  return open(), so
end

function C.median(xs)
  local s = { table.unpack(xs) }
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

--- Median ns of each function, the functions run alternately (after
-- `warmup` unmeasured rounds, `runs` measured ones, a full collection before
-- each measurement), and the last result of each.
function C.compare(now, runs, warmup, fns)
  local samples, results = {}, {}
  for i = 1, #fns do samples[i] = {} end
  for _ = 1, warmup do
    for i, fn in ipairs(fns) do results[i] = fn() end
  end
  for r = 1, runs do
    for i, fn in ipairs(fns) do
      collectgarbage("collect")
      collectgarbage("collect")
      local t0 = now()
      results[i] = fn()
      samples[i][r] = now() - t0
    end
  end
  local medians = {}
  for i = 1, #fns do medians[i] = C.median(samples[i]) end
  return medians, results
end

--- The running interpreter, to start child processes with: arg's lowest
-- index (options such as -e come after it).
function C.interpreter()
  local i = -1
  if not arg then return "lua5.4" end
  while arg[i - 1] do i = i - 1 end
  return arg[i] or "lua5.4"
end

--- Prints a markdown table: its header and alignment lines as given, then
-- one line per row (an array of cell strings).
function C.print_table(header, align, rows)
  print(header)
  print(align)
  for _, r in ipairs(rows) do print("| " .. table.concat(r, " | ") .. " |") end
end

--- Durations in ns as "1.23 s", "4.56 ms" or "789 µs".
--- A blank line, intro, a blank line and the table: nothing for no rows.
function C.print_section(intro, header, align, rows)
  if #rows == 0 then return end
  print()
  print(intro)
  print()
  C.print_table(header, align, rows)
end

--- The records of one walk of open(opts) per options table, those keep(r)
-- accepts (all without keep), as an array and its length.
function C.walks(open, opts_list, keep)
  local out, n = {}, 0
  for _, opts in ipairs(opts_list) do
    for r in assert(open(opts)) do
      if not keep or keep(r) then
        n = n + 1
        out[n] = r
      end
    end
  end
  return out, n
end

function C.fmt_time(ns)
  if ns >= 1e9 then return ("%.2f s"):format(ns / 1e9) end
  if ns >= 1e6 then return ("%.2f ms"):format(ns / 1e6) end
  return ("%.0f µs"):format(ns / 1e3)
end

--- 1234567 -> "1,234,567".
function C.fmt_count(n)
  local s = ("%d"):format(n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

--- Runs main, then the cleanup functions (last registered first), then
-- report (what was measured so far, also after a failure), and exits.
function C.run(main, cleanup, report)
  local ok, err = xpcall(main, debug.traceback)
  for i = #cleanup, 1, -1 do pcall(cleanup[i]) end
  report()
  if not ok then
    io.stderr:write("bench failed: ", tostring(err), "\n")
    os.exit(1)
  end
  os.exit(0)
end

return C
