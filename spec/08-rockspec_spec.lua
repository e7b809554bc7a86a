-- rockspec/bpfiter-scm-1.rockspec installed with luarocks into a temporary
-- tree, then used by processes that see only that tree: the rock must be
-- complete on its own (module, core, CLI), built offline from the sources.
local bpfiter = require "bpfiter"
local cjson = require "cjson"
local H = require "helper"

-- The tree this spec belongs to, however busted was started.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. ".."

-- Nothing from the caller may leak in: not the source tree's paths, not
-- `make asan`'s preloaded sanitizer (it would fail the compilers on their
-- leaks), not the jobserver or variables of a `make check` around us.
local CLEAN_ENV = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u BPFITER_BUILD"
  .. " -u LD_PRELOAD -u MAKEFLAGS -u MFLAGS -u MAKELEVEL"

-- Installs the rock into DIR/tree and returns that tree. The build runs on
-- a copy of the sources in DIR/src: `luarocks make` builds in the current
-- directory, and a copy keeps this spec from writing into the working tree
-- or sharing a build directory with anyone running it at the same time.
local function install(dir)
  local src, tree = dir .. "/src", dir .. "/tree"
  local out, code = H.run(("%s sh -c \"mkdir '%s' && tar -C '%s' --exclude=./.git --exclude='./build*' -cf - . | tar -C '%s' -xf -\"")
    :format(CLEAN_ENV, src, ROOT, src))
  assert(code == 0, out)
  out, code = H.run(("cd '%s' && %s luarocks make --lua-version=5.4 --tree='%s' rockspec/bpfiter-scm-1.rockspec")
    :format(src, CLEAN_ENV, tree))
  assert(code == 0, "luarocks make failed:\n" .. out)
  return tree
end

local function temp_dir()
  local dir = H.mktemp_dir()
  finally(function() H.rm_rf(dir) end)
  return dir
end

describe("the rockspec", function()
  it("installs a module that a lua5.4 seeing only the tree can use", function()
    local dir = temp_dir()
    local tree = install(dir)
    assert.truthy(H.read_file(tree .. "/lib/lua/5.4/bpfiter/core.so"))
    assert.truthy(H.read_file(tree .. "/share/lua/5.4/bpfiter/init.lua"))

    -- The subprocess reports its own /proc/self/stat and the record
    -- bpfiter gives for its pid; this process compares the two.
    local script = dir .. "/probe.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      local tree = ...
      package.path = tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua"
      package.cpath = tree .. "/lib/lua/5.4/?.so"
      local bpfiter = require "bpfiter"
      local stat = io.open("/proc/self/stat"):read("l")
      local pid, comm = stat:match("^(%d+) %((.*)%) ")
      print("stat", pid, comm)
      for t in assert(bpfiter.tasks { pid = tonumber(pid) }) do
        print("task", t.pid, t.tgid, t.comm)
      end
      print("version", bpfiter.version)
    ]])
    f:close()
    local out, code = H.run(("%s lua5.4 '%s' '%s'"):format(CLEAN_ENV, script, tree))
    assert.equal(0, code, out)

    local stat, tasks, version = nil, {}, nil
    for line in out:gmatch("[^\n]+") do
      local kind, a, b, c = line:match("^(%a+)\t([^\t]*)\t?([^\t]*)\t?(.*)$")
      if kind == "stat" then stat = { pid = tonumber(a), comm = b }
      elseif kind == "task" then tasks[#tasks + 1] = { pid = tonumber(a), tgid = tonumber(b), comm = c }
      elseif kind == "version" then version = a end
    end
    assert.truthy(stat, out)
    assert.equal("lua5.4", stat.comm)
    -- lua5.4 runs one thread, so its only record is the process itself.
    assert.same({ { pid = stat.pid, tgid = stat.pid, comm = stat.comm } }, tasks)
    assert.equal(bpfiter.version, version)
  end)

  -- bin/bpfiter (the CLI) is installed only if the sources have it.
  local has_cli = H.read_file(ROOT .. "/bin/bpfiter") and H.read_file(ROOT .. "/lua/bpfiter/cli/init.lua")
  local it_cli = has_cli and it or pending
  it_cli("installs a bin/bpfiter that runs from the tree", function()
    local tree = install(temp_dir())
    local bin = tree .. "/bin/bpfiter"

    local out, code = H.run(("%s '%s' version"):format(CLEAN_ENV, bin))
    assert.equal(0, code, out)
    assert.equal("bpfiter " .. bpfiter.version .. "\n", out)

    -- The shell prints its pid and execs the wrapper, which execs lua5.4:
    -- the walked process is that pid, named lua5.4.
    out, code = H.run(("{ %s sh -c 'echo $$; exec \"$0\" tasks --pid $$ --json' '%s' 2>/dev/null; }")
      :format(CLEAN_ENV, bin))
    assert.equal(0, code, out)
    local pid, json = out:match("^(%d+)\n(.*)$")
    assert.truthy(json, out)
    local recs = cjson.decode(json)
    assert.equal(1, #recs)
    assert.equal(tonumber(pid), recs[1].pid)
    assert.equal(tonumber(pid), recs[1].tgid)
    assert.equal("lua5.4", recs[1].comm)
  end)
end)
