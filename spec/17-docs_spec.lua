-- The docs made from the declarations (tools/gendocs.lua): fields carry a
-- unit and a meaning; the committed man page and LuaCATS file are current;
-- man renders the page with every command, option and field; the LuaCATS
-- file and the LDoc reference cover every public function and record.
local bpfiter = require "bpfiter"
local H = require "helper"

local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "../"
local BIN = ROOT .. "bin/bpfiter"
local UNITS = { bytes = true, ns = true, pages = true, count = true, [""] = true }
-- Written here, not taken from the CLI: what bpfiter --help promises.
local COMMANDS = { "report", "targets", "cache", "pin", "cat", "unpin", "programs", "export", "serve",
  "version", "help" }

local function must(cmd)
  local out, status = H.run(cmd)
  assert(status == 0, ("%s: exit %s\n%s"):format(cmd, tostring(status), out))
  return out
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

local function public_functions()
  local names = {}
  for k, v in pairs(bpfiter) do
    if type(v) == "function" then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end

describe("field declarations", function()
  it("every field of every target has a unit of the convention and a one-line meaning", function()
    for _, t in ipairs(bpfiter.target_names) do
      local info = bpfiter.field_info[t]
      assert.equal(#bpfiter.fields[t], #info, t)
      assert.truthy(bpfiter.target_help[t]:match("^%S"), t)
      for i, f in ipairs(info) do
        local where = t .. "." .. f.name
        assert.equal(bpfiter.fields[t][i], f.name, where)
        assert.truthy(UNITS[f.unit], where .. ": unit '" .. f.unit .. "'")
        assert.truthy(#f.help > 3 and not f.help:find("[\n%z]"), where .. ": no help")
        assert.truthy(f.type:match("^[%w_.|%[%]?]+$"), where)
      end
    end
  end)

  it("names ending in _ns are ns and in _bytes are bytes", function()
    for _, t in ipairs(bpfiter.target_names) do
      for _, f in ipairs(bpfiter.field_info[t]) do
        if f.name:match("_ns$") then assert.equal("ns", f.unit, t .. "." .. f.name) end
        if f.name:match("_bytes$") and f.type == "integer" then
          assert.equal("bytes", f.unit, t .. "." .. f.name)
        end
      end
    end
  end)

  it("units match the values: tasks' rss in bytes, start time in ns, as /proc/self says", function()
    local pid = tonumber(H.read_file("/proc/self/stat"):match("^(%d+)"))
    local rec = assert(bpfiter.collect("tasks", { pid = pid }))[1]
    local unit = {}
    for _, f in ipairs(bpfiter.field_info.tasks) do unit[f.name] = f.unit end
    assert.equal("bytes", unit.rss)
    local resident = tonumber(H.read_file("/proc/self/statm"):match("^%d+ (%d+)"))
    -- the counter moves while Lua allocates: within 25 %
    assert.near(resident * bpfiter.page_size, rec.rss, resident * bpfiter.page_size / 4)
    assert.equal("ns", unit.start_time_ns)
    local ticks = tonumber(H.read_file("/proc/self/stat"):match("%) (.*)"):match(("%S+ "):rep(19) .. "(%d+)"))
    local hz = tonumber(H.run("getconf CLK_TCK"):match("%d+"))
    assert.near(ticks / hz, rec.start_time_ns / 1e9, 2 / hz)
  end)

  it("bpfiter help TARGET shows each field's unit and meaning", function()
    for _, t in ipairs { "tasks", "cached_files", "tcp" } do
      local out = must(BIN .. " help " .. t)
      for _, f in ipairs(bpfiter.field_info[t]) do
        local line = out:match("\n  " .. escape(f.name) .. " +[^\n]*")
        assert.truthy(line, t .. "." .. f.name)
        assert.truthy(line:find(escape(f.help)), t .. "." .. f.name)
        if f.unit ~= "" then assert.truthy(line:find(" " .. f.unit .. " "), t .. "." .. f.name) end
      end
    end
  end)
end)

describe("generated docs", function()
  local dir, man_text
  setup(function()
    dir = H.mktemp_dir()
    must(("cd '%s' && LUA_PATH='%s' LUA_CPATH='%s' lua5.4 tools/gendocs.lua '%s'")
      :format(ROOT, package.path, package.cpath, dir))
    man_text = must(("MANWIDTH=200 MANPAGER=cat man -l '%s/docs/bpfiter.1' 2>&1"):format(ROOT))
  end)
  teardown(function() H.rm_rf(dir) end)

  it("the committed man page and LuaCATS file are what the generator makes (make docs)", function()
    for _, name in ipairs { "bpfiter.1", "bpfiter.d.lua" } do
      assert.equal(H.read_file(dir .. "/" .. name), H.read_file(ROOT .. "docs/" .. name),
        "docs/" .. name .. " is stale: run make docs")
    end
  end)

  it("man renders bpfiter(1) with every command, target, option and field", function()
    assert.truthy(man_text:find("BPFITER%(1%)"))
    assert.falsy(man_text:find("warning"), man_text:match("[^\n]*warning[^\n]*"))
    for _, c in ipairs(COMMANDS) do
      assert.truthy(man_text:find("\n   " .. c .. "\n"), "command " .. c)
    end
    for _, t in ipairs(bpfiter.target_names) do
      local section = man_text:match("\n   " .. t .. "\n(.-)\n   %S") or man_text:match("\n   " .. t .. "\n(.*)$")
      assert.truthy(section, "target " .. t)
      for _, o in ipairs(bpfiter.options[t]) do
        local flag = escape((o.name:gsub("_", "-")))
        assert.truthy(section:find("%-%-" .. flag) or section:find("%-%-%[no%-%]" .. flag), t .. " --" .. o.name)
      end
      for _, f in ipairs(bpfiter.field_info[t]) do
        assert.truthy(section:find("\n       " .. escape(f.name) .. "[\n ]"), t .. " field " .. f.name)
      end
    end
  end)

  it("the LuaCATS file is Lua and declares every record, its fields, options and every function", function()
    local text = H.read_file(ROOT .. "docs/bpfiter.d.lua")
    assert(load(text, "bpfiter.d.lua"))
    assert.truthy(text:find("^%-%-%-@meta"))
    for _, t in ipairs(bpfiter.target_names) do
      local class = text:match("\n%-%-%-@class bpfiter%." .. t .. "%.record[^\n]*\n(.-)\n\n")
      assert.truthy(class, t)
      for _, f in ipairs(bpfiter.field_info[t]) do
        local name = f.name:match("^[%a_][%w_]*$") and f.name or ('["%s"]'):format(f.name)
        assert.truthy(class:find("%-%-%-@field " .. escape(name) .. " " .. escape(f.type) .. " "), t .. "." .. f.name)
      end
      local options = text:match("\n%-%-%-@class bpfiter%." .. t .. "%.options\n(.-)\n\n") or ""
      for _, o in ipairs(bpfiter.options[t]) do
        assert.truthy(options:find("%-%-%-@field " .. o.name .. (o.required and " " or "%? ")), t .. " " .. o.name)
      end
    end
    for _, name in ipairs(public_functions()) do
      assert.truthy(text:find("\nfunction bpfiter%." .. name .. "%("), name)
    end
  end)

  it("LDoc builds the reference: every public function, every record's fields", function()
    must(("cd '%s' && ldoc -c config.ld -d html . 2>&1"):format(dir))
    local api = H.read_file(dir .. "/html/modules/bpfiter.html")
    local walks = H.read_file(dir .. "/html/modules/walks.html")
    for _, name in ipairs(public_functions()) do
      assert.truthy(api:find('name = "' .. name .. '"', 1, true) or walks:find('name = "' .. name .. '"', 1, true),
        name)
    end
    for _, t in ipairs(bpfiter.target_names) do
      local record = walks:match('name = "' .. t .. '_record"(.-)</dd>')
      assert.truthy(record, t)
      for _, f in ipairs(bpfiter.field_info[t]) do
        local unit = f.unit ~= "" and ", " .. f.unit or ""
        assert.truthy(record:find(('<span class="parameter">%s</span>\n%%s*%%(%s%s%%)')
          :format(escape(f.name), escape(f.type), unit)), t .. "." .. f.name)
      end
    end
  end)
end)
