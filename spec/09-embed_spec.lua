-- examples/host.c: a C program with Lua and libbpfiter.a linked in
-- (`make fixtures` builds it as build/host), run as a subprocess.
local bpfiter = require "bpfiter"
local H = require "helper"

local HOST = H.build .. "/host"

-- Runs a shell command in DIR; returns stdout, stderr, exit status.
local function run(dir, cmd)
  local ok, _, code = os.execute(("{ %s; } >'%s/out' 2>'%s/err'"):format(cmd, dir, dir))
  return H.read_file(dir .. "/out"), H.read_file(dir .. "/err"), ok and 0 or code
end

local function temp_dir()
  local dir = H.mktemp_dir()
  finally(function() H.rm_rf(dir) end)
  return dir
end

local function script(dir, text)
  local path = dir .. "/script.lua"
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("a host embedding libbpfiter.a", function()
  it("runs its built-in script: one task for its own pid, comm host", function()
    local dir = temp_dir()
    -- The shell prints its pid, then becomes the host: the pid the host
    -- walks must be that one, which the host cannot have made up.
    local out, err, code = run(dir, ("sh -c 'echo $$; exec \"$0\"' '%s'"):format(HOST))
    assert.equal(0, code, err)
    local pid, walked, count, comm = out:match("^(%d+)\ntasks of pid (%d+): (%d+)\ncomm: (%S+)\n$")
    assert.truthy(pid, out)
    assert.equal(pid, walked)
    assert.equal("1", count) -- the host runs a single thread
    assert.equal("host", comm)
  end)

  it("runs a script file with its arguments and the module preloaded", function()
    local dir = temp_dir()
    local path = script(dir, [[
      print(select("#", ...), ...)
      print(bpfiter == require "bpfiter", bpfiter.version)
    ]])
    local out, err, code = run(dir, ("'%s' '%s' one two"):format(HOST, path))
    assert.equal(0, code, err)
    assert.equal(("2\tone\ttwo\ntrue\t%s\n"):format(bpfiter.version), out)
    assert.equal("", err)
  end)

  it("has the whole Lua layer built in, not only init.lua (no .lua files on its path)", function()
    local dir = temp_dir()
    local data = dir .. "/data"
    H.write_file(data, ("x"):rep(3 * 4096))
    -- cached_files is made in Lua (bpfiter.pagecache); before 6.2 its
    -- ENOTSUP comes from there as well.
    local path = script(dir, ([[
      local step, it, ctl, closing = bpfiter.cached_files{path = %q}
      if not step then print(it); step, it, ctl, closing = next, {}, nil, nil end
      for f in step, it, ctl, closing do print(f.path, f.cached) end
      print(type(require("bpfiter.cpu_wait").quantile), package.searchers[2] ~= nil)
    ]]):format(data))
    -- No LUA_PATH: the modules can only come from the library.
    local out, err, code = run(dir, ("env LUA_PATH='%s/?.lua' LUA_PATH_5_4='%s/?.lua' '%s' '%s'")
      :format(dir, dir, HOST, path))
    assert.equal(0, code, err)
    local ok, reason = bpfiter.available("cached_files")
    local first = ok and ("%s\t3"):format(data) or "cached_files: " .. reason .. ": Operation not supported"
    assert.equal(first .. "\nfunction\ttrue\n", out)
  end)

  it("exits non-zero with the error on stderr when the script raises", function()
    local dir = temp_dir()
    local path = script(dir, 'local b = require "bpfiter"\nerror("no such luck")\n')
    local out, err, code = run(dir, ("'%s' '%s'"):format(HOST, path))
    assert.not_equal(0, code)
    assert.equal("", out)
    assert.matches("^host: " .. path:gsub("%p", "%%%0") .. ":2: no such luck\n", err)
  end)

  it("exits non-zero with the error on stderr when the script is missing", function()
    local dir = temp_dir()
    local out, err, code = run(dir, ("'%s' '%s/absent.lua'"):format(HOST, dir))
    assert.not_equal(0, code)
    assert.equal("", out)
    assert.matches("cannot open .*absent%.lua", err)
  end)
end)
