-- The package as a user installs it: the source rock `make rock` builds,
-- installed offline by luarocks into an empty tree; `make install` into a
-- prefix and staged with DESTDIR; the library's binary hygiene. Processes
-- started here see only what was installed, never the source tree.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local H = require "helper"

-- The tree this spec belongs to, however busted was started.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. ".."

-- Nothing from the caller may leak in: not the source tree's paths, not
-- `make asan`'s preloaded sanitizer (it would fail the compilers on their
-- leaks), not the jobserver or variables of a `make check` around us.
local CLEAN_ENV = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u BPFITER_BUILD"
  .. " -u LD_PRELOAD -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS"

local function temp_dir()
  local dir = H.mktemp_dir()
  finally(function() H.rm_rf(dir) end)
  return dir
end

local function must(cmd)
  local out, code = H.run(cmd)
  assert(code == 0, cmd .. "\n" .. out)
  return out
end

-- A copy of the sources to build in: neither the working tree nor anyone
-- running this spec at the same time shares its build directory.
local function copy_sources(dir)
  local src = dir .. "/src"
  must(("%s sh -c \"mkdir '%s' && tar -C '%s' --exclude='./build*' -cf - . | tar -C '%s' -xf -\"")
    :format(CLEAN_ENV, src, ROOT, src))
  return src
end

-- The walked process reports its /proc/self/stat and bpfiter's record of
-- its own pid; the caller compares the two (the ground truth is /proc).
local PROBE = [[
  local bpfiter = require "bpfiter"
  local stat = io.open("/proc/self/stat"):read("l")
  local pid, comm = stat:match("^(%d+) %((.*)%) ")
  print("stat", pid, comm)
  for t in assert(bpfiter.tasks { pid = tonumber(pid) }) do print("task", t.pid, t.tgid, t.comm) end
]]

local function check_probe(out)
  local stat, tasks = nil, {}
  for line in out:gmatch("[^\n]+") do
    local kind, a, b, c = line:match("^(%a+)\t([^\t]*)\t?([^\t]*)\t?(.*)$")
    if kind == "stat" then stat = { pid = tonumber(a), comm = b }
    elseif kind == "task" then tasks[#tasks + 1] = { pid = tonumber(a), tgid = tonumber(b), comm = c } end
  end
  assert.truthy(stat, out)
  -- one thread, so its only record is the process itself
  assert.same({ { pid = stat.pid, tgid = stat.pid, comm = stat.comm } }, tasks)
end

-- `bin/bpfiter tasks --pid $$ --json` run by a shell that prints its pid
-- and execs it: the record must be that process.
local function check_cli(bin)
  local out = must(("%s '%s' version"):format(CLEAN_ENV, bin))
  assert.equal("bpfiter " .. bpfiter.version .. "\n", out)
  out = must(("{ %s sh -c 'echo $$; exec \"$0\" tasks --pid $$ --json' '%s' 2>/dev/null; }")
    :format(CLEAN_ENV, bin))
  local pid, json = out:match("^(%d+)\n(.*)$")
  assert.truthy(json, out)
  local recs = cjson.decode(json)
  assert.equal(1, #recs)
  assert.equal(tonumber(pid), recs[1].pid)
  assert.equal("lua5.4", recs[1].comm)
end

local has_git = select(2, H.run(("git -C '%s' rev-parse --git-dir"):format(ROOT))) == 0

describe("the source rock", function()
  local it_git = has_git and it or pending
  it_git("installs offline into an empty tree: module, core and CLI", function()
    local dir = temp_dir()
    must(("cd '%s' && %s make -s rock B='%s/rockbuild'"):format(ROOT, CLEAN_ENV, dir))
    local rock = must(("ls '%s'/rockbuild/bpfiter-*.src.rock"):format(dir)):match("[^\n]+")
    local tree = dir .. "/tree"
    must(("cd '%s' && %s luarocks --lua-version=5.4 install --tree='%s' --deps-mode=none '%s'")
      :format(dir, CLEAN_ENV, tree, rock))
    assert.truthy(H.read_file(tree .. "/lib/lua/5.4/bpfiter/core.so"))
    assert.truthy(H.read_file(tree .. "/share/lua/5.4/bpfiter/init.lua"))

    local script = dir .. "/probe.lua"
    H.write_file(script, ([[
      package.path = %q .. "/share/lua/5.4/?.lua;" .. %q .. "/share/lua/5.4/?/init.lua"
      package.cpath = %q .. "/lib/lua/5.4/?.so"
    ]]):format(tree, tree, tree) .. PROBE)
    check_probe(must(("%s lua5.4 '%s'"):format(CLEAN_ENV, script)))
    check_cli(tree .. "/bin/bpfiter")
  end)
end)

describe("make install", function()
  -- One copy of the sources, built once, installed twice.
  local dir, src
  setup(function()
    dir = H.mktemp_dir()
    src = copy_sources(dir)
    must(("cd '%s' && %s make -s -j2 all"):format(src, CLEAN_ENV))
  end)
  teardown(function() H.rm_rf(dir) end)

  it("installs into PREFIX, the CLI runs from there, uninstall removes it all", function()
    local prefix = dir .. "/prefix"
    must(("cd '%s' && %s make -s -j2 install PREFIX='%s'"):format(src, CLEAN_ENV, prefix))
    for _, f in ipairs { "/bin/bpfiter", "/include/bpfiter.h", "/lib/libbpfiter.a",
      "/lib/pkgconfig/bpfiter.pc", "/lib/lua/5.4/bpfiter/core.so", "/share/lua/5.4/bpfiter/init.lua",
      "/share/man/man1/bpfiter.1" } do
      assert.truthy(H.read_file(prefix .. f), f)
    end
    check_cli(prefix .. "/bin/bpfiter")
    must(("cd '%s' && %s make -s uninstall PREFIX='%s'"):format(src, CLEAN_ENV, prefix))
    assert.equal("", must(("find '%s' -type f 2>/dev/null || true"):format(prefix)))
  end)

  it("stages with DESTDIR; a host builds from the staged files with pkg-config only", function()
    local stage = dir .. "/stage"
    must(("cd '%s' && %s make -s -j2 install DESTDIR='%s' PREFIX=/opt/bpfiter-spec"):format(src, CLEAN_ENV, stage))
    assert.is_nil(H.read_file("/opt/bpfiter-spec/include/bpfiter.h"))
    -- The staged .pc relocated to where DESTDIR put it; lua5.4 and libbpf
    -- come from the system's own .pc files.
    local pcdir = dir .. "/pc"
    must(("mkdir '%s' && sed 's|^prefix=.*|prefix=%s/opt/bpfiter-spec|' '%s/opt/bpfiter-spec/lib/pkgconfig/bpfiter.pc' > '%s/bpfiter.pc'")
      :format(pcdir, stage, stage, pcdir))
    local host = dir .. "/host"
    -- examples/host.c copied alone: the source tree's headers are out of reach
    must(("cp '%s/examples/host.c' '%s/host.c' && cd '%s' && %s PKG_CONFIG_PATH='%s' sh -c 'cc -o host host.c $(pkg-config --cflags --libs bpfiter)'")
      :format(src, dir, dir, CLEAN_ENV, pcdir))
    local out = must(("%s '%s'"):format(CLEAN_ENV, host))
    -- the host walked its own tasks: one thread, named host
    assert.matches("tasks of pid %d+: 1\ncomm: host\n", out)
  end)
end)

describe("the built library", function()
  local build = H.build

  it("exports only the documented C API", function()
    local exported = {}
    for name in must(("nm -D --defined-only '%s/bpfiter/core.so'"):format(build)):gmatch(" [TDBR] (%S+)") do
      exported[#exported + 1] = name
    end
    assert.same({ "luaopen_bpfiter_core" }, exported)
    local global = {}
    for name in must(("nm -g --defined-only '%s/libbpfiter.a'"):format(build)):gmatch(" [TDBR] (%S+)") do
      global[#global + 1] = name
    end
    table.sort(global)
    assert.same({ "bpfiter_preload", "luaopen_bpfiter", "luaopen_bpfiter_core" }, global)
  end)

  it("embeds BPF objects without DWARF (core.so at most 2 MB)", function()
    local size = #assert(H.read_file(build .. "/bpfiter/core.so"))
    assert.is_true(size <= 2 * 1024 * 1024, ("core.so is %d bytes"):format(size))
  end)
end)
