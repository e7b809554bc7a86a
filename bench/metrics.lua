--- The cost of a metrics scrape, on a machine made busy the way the fleet
-- issue describes it: a process with 5,000 threads and 300 cgroups. CPU
-- time per scrape of the default collectors (and of page_cache alone), the
-- share of one core `serve` takes at a 15 s scrape interval, and RSS over
-- 1,000 scrapes.
local metrics = require "bpfiter.metrics"
local H = require "helper"
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local C = require "common"

local THREADS, CGROUPS, SCRAPES = 5000, 300, 1000
local INTERVAL = 15

local cleanup, rows, notes = {}, {}, {}

local function cpu_ms(fn)
  local t0 = os.clock()
  fn()
  return (os.clock() - t0) * 1e3
end

local function rss_kib()
  return tonumber(H.read_file("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

local function main()
  local fx = H.fixture("threads", THREADS, "benchthr")
  cleanup[#cleanup + 1] = fx.stop
  local root = H.cgroup2_mount()
  local base = ("%s/bpfiter-bench-%d"):format(root, fx.pid)
  assert(os.execute(("mkdir '%s'"):format(base)))
  cleanup[#cleanup + 1] = function() os.execute(("rmdir '%s'/* '%s' 2>/dev/null"):format(base, base)) end
  for i = 1, CGROUPS - 1 do assert(os.execute(("mkdir '%s/c%d'"):format(base, i))) end

  local m <close> = metrics.new {}
  m:collect() -- loads the programs, starts the run-queue wait collector
  local per = {}
  for i = 1, 21 do per[i] = cpu_ms(function() m:collect() end) end
  local scrape = C.median(per)
  rows[#rows + 1] = { "scrape, default collectors (CPU of the scraping process)",
    ("%.1f ms"):format(scrape), "≤ 20 ms", scrape <= 20 and "met" or "missed" }
  local share = scrape / (INTERVAL * 1e3) * 100
  rows[#rows + 1] = { ("`serve` at a %d s interval, share of one core"):format(INTERVAL),
    ("%.3f %%"):format(share), "≤ 0.2 %", share <= 0.2 and "met" or "missed" }

  local pc <close> = metrics.new { collectors = { "page_cache" } }
  pc:collect()
  for i = 1, 5 do per[i] = cpu_ms(function() pc:collect() end) end
  local page = C.median({ table.unpack(per, 1, 5) })
  rows[#rows + 1] = { "scrape, page_cache alone (opt-in)", ("%.1f ms"):format(page), "—", "—" }

  for _ = 1, 10 do m:collect() end
  collectgarbage("collect")
  local before = rss_kib()
  for _ = 1, SCRAPES do m:collect() end
  collectgarbage("collect")
  local after = rss_kib()
  rows[#rows + 1] = { ("RSS after %d more scrapes"):format(SCRAPES),
    ("%d → %d KiB"):format(before, after), "flat", after - before < 1024 and "met" or "missed" }
  notes[#notes + 1] = ("fixture: %d threads (pid %d), %d cgroups under %s; the run-queue wait "
    .. "collector's tracepoints run in the scheduler and are not in these figures"):format(
    THREADS, fx.pid, CGROUPS, base)
end

C.run(main, cleanup, function()
  print("\n## metrics: cost of a scrape\n")
  C.print_table("| what | measured | goal | met? |", "|---|---:|---|---|", rows)
  for _, n in ipairs(notes) do print("\n" .. n) end
end)
