-- bin/bpfiter's output stays valid and safe whatever bytes the kernel hands
-- over: file names that are not UTF-8 or carry ESC and newlines, a comm with
-- control bytes, binary map keys and values. JSON is checked with a second,
-- strict parser (Python's), against the bytes this spec created itself.
local cjson = require "cjson"
local H = require "helper"

local BIN = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "../bin/bpfiter"
local me = tonumber(H.read_file("/proc/self/stat"):match("^%d+"))

-- A word for sh: any bytes but NUL, inside single quotes.
local function q(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- stdout and exit status of bin/bpfiter ARGS (stderr dropped).
local function cli(args)
  return H.run(("{ %s %s 2>/dev/null; }"):format(BIN, args))
end

-- Runs python3 -c script ARGS... on `input` (through a file, bytes
-- untouched): its stdout and exit status.
local function python(dir, script, input, ...)
  local f = assert(io.open(dir .. "/input", "wb"))
  f:write(input)
  f:close()
  local args = { ... }
  for i, a in ipairs(args) do args[i] = q(a) end
  return H.run(("env -u LD_PRELOAD python3 -c %s %s < %s"):format(q(script), table.concat(args, " "),
    q(dir .. "/input")))
end

-- Python, strict: the whole output must be UTF-8 and JSON; prints, for
-- every record, FIELD's value as hex of the bytes it stands for (a string
-- as its UTF-8, an array of byte values as those bytes), "KEY HEX" lines.
local PY_JSON = [[
import json, sys
key, field = sys.argv[1], sys.argv[2]
for r in json.loads(sys.stdin.buffer.read().decode("utf-8")):
    v = r[field]
    b = bytes(v) if isinstance(v, list) else v.encode("utf-8")
    print(r[key], b.hex())
]]

-- Python's csv module, the bytes kept (surrogateescape): "KEY HEX" lines.
local PY_CSV = [[
import csv, io, sys
key, field = sys.argv[1], sys.argv[2]
rows = csv.DictReader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                                       errors="surrogateescape", newline=""))
for r in rows:
    print(r[key], r[field].encode("utf-8", "surrogateescape").hex())
]]

local function py_fields(dir, script, input, key, field)
  local out, code = python(dir, script, input, key, field)
  assert(code == 0, out)
  local got = {}
  for k, h in out:gmatch("(%S+) (%x*)\n") do got[tonumber(k)] = h end
  return got
end

-- Lines of a table, and whether any byte a terminal acts on got through
-- (C0 controls other than the line ends, DEL, C1 controls, bad UTF-8).
local function assert_printable(text)
  assert.is_truthy(utf8.len(text), "the table is not valid UTF-8")
  assert.is_nil(text:find("[\0-\9\11-\31\127]"), "a raw control character in the table")
  assert.is_nil(text:find("\194[\128-\159]"), "a raw C1 control in the table")
end

describe("output encoding", function()
  local dir, holder, names, comm
  -- name (suffix) -> how the table prints it
  local cases = {
    { name = "bad\255\254name", shown = "bad\\xff\\xfename" },
    { name = "esc\27[31mred\nline", shown = "esc\\x1b[31mred\\nline" },
    { name = "back\\slash\ttab", shown = "back\\\\slash\\ttab" },
    { name = "csi\194\155x", shown = "csi\\xc2\\x9bx" },
    { name = "comma,\"quoted\"", shown = "comma,\"quoted\"" },
    { name = "caf\195\169-\226\130\172", shown = "caf\195\169-\226\130\172" }, -- valid UTF-8: as is
  }
  -- a comm with ESC and a byte that is not UTF-8 (the kernel keeps 15)
  local COMM = "c\27[1m\255x"

  setup(function()
    dir = H.mktemp_dir()
    names = {}
    for i, c in ipairs(cases) do
      names[i] = dir .. "/" .. c.name
      assert(io.open(names[i], "w")):close()
    end
    -- A holder opens every name (fds 3..), renames itself, says ready, and
    -- waits for its stdin to close.
    local script = [[
      local files = {}
      for i = 2, #arg do files[#files + 1] = assert(io.open(arg[i])) end
      local c = assert(io.open("/proc/self/comm", "w")); c:write(arg[1]); c:close()
      local pid = io.open("/proc/self/stat"):read("a"):match("^%d+")
      local f = assert(io.open(arg[0] .. ".tmp", "w")); f:write(pid); f:close()
      os.rename(arg[0] .. ".tmp", arg[0] .. ".ready")
      io.read("a")
    ]]
    local path = dir .. "/holder.lua"
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local args = { q(COMM) }
    for i, n in ipairs(names) do args[i + 1] = q(n) end
    holder = { pipe = assert(io.popen(("exec env -u LD_PRELOAD lua5.4 %s %s >/dev/null 2>&1")
      :format(q(path), table.concat(args, " ")), "w")) }
    for _ = 1, 500 do
      holder.pid = tonumber(H.read_file(path .. ".ready"))
      if holder.pid then break end
      H.sleep(0.01)
    end
    assert(holder.pid, "the holder did not start")
    comm = H.read_file(("/proc/%d/comm"):format(holder.pid)):gsub("\n$", "")
  end)

  teardown(function()
    if holder and holder.pipe then holder.pipe:close() end
    H.rm_rf(dir)
  end)

  -- fd -> the exact bytes of the path it holds, from /proc (ground truth)
  local function proc_paths()
    local want = {}
    for fd, e in pairs(H.proc_fds(holder.pid)) do
      if fd >= 3 and e.path and e.path:sub(1, #dir) == dir then want[fd] = e.path end
    end
    return want
  end

  it("holds every name (ground truth from /proc matches what the spec created)", function()
    local want = proc_paths()
    local seen = {}
    for _, p in pairs(want) do seen[p] = true end
    for _, n in ipairs(names) do assert.is_true(seen[n], hex(n)) end
    assert.equal(COMM, comm)
  end)

  -- files --pid HOLDER in format (json, csv), read back by Python's
  -- parser `script`: every path as /proc gives it. Returns the output.
  local function assert_paths_back(format, script)
    local out, code = cli("files --pid " .. holder.pid .. " --" .. format)
    assert.equal(0, code)
    local got = py_fields(dir, script, out, "fd", "path")
    for fd, path in pairs(proc_paths()) do
      assert.equal(hex(path), got[fd])
    end
    return out
  end

  it("--json is valid UTF-8 JSON (Python, strict) and gives every path back byte for byte", function()
    local out = assert_paths_back("json", PY_JSON)
    -- lua-cjson reads it too; text that is UTF-8 stays a string, the rest
    -- is an array of byte values
    for _, r in ipairs(cjson.decode(out)) do
      local path = proc_paths()[r.fd]
      if path then
        if utf8.len(path) then
          assert.equal(path, r.path)
        else
          assert.equal("table", type(r.path))
          assert.equal(path, string.char(table.unpack(r.path)))
        end
      end
    end
  end)

  it("--json writes control characters as escapes, never raw", function()
    local out = cli("files --pid " .. holder.pid .. " --json")
    assert.is_nil(out:find("[\0-\9\11-\31\127]"))
    assert.is_nil(out:find("\194[\128-\159]"))
    assert.matches("esc\\u001b[31mred\\nline", out, 1, true)
    assert.matches("csi\\u009bx", out, 1, true)
  end)

  it("--json gives a comm with control and non-UTF-8 bytes back exactly", function()
    local out, code = cli("tasks --pid " .. holder.pid .. " --json")
    assert.equal(0, code)
    local got = py_fields(dir, PY_JSON, out, "pid", "comm")
    assert.equal(hex(comm), got[holder.pid])
  end)

  it("--csv is valid CSV (Python's csv) with every path's bytes kept", function()
    assert_paths_back("csv", PY_CSV)
  end)

  it("the table escapes control characters, backslashes and bytes that are not UTF-8", function()
    local out, code = cli("files --pid " .. holder.pid)
    assert.equal(0, code)
    assert_printable(out)
    -- one line per fd, the header aside: no newline got through
    local nfds = 0
    for _ in pairs(H.proc_fds(holder.pid)) do nfds = nfds + 1 end
    local nlines = select(2, out:gsub("\n", ""))
    assert.equal(nfds + 1, nlines)
    local by_fd = {}
    for fd, path in pairs(proc_paths()) do by_fd[path] = fd end
    for i, c in ipairs(cases) do
      local line = out:match("\n *%d+ +" .. by_fd[names[i]] .. " [^\n]*")
      assert.is_not_nil(line, c.shown)
      assert.equal("/" .. c.shown, line:sub(-#c.shown - 1))
    end
  end)

  it("the table escapes a comm (tasks)", function()
    local out, code = cli("tasks --pid " .. holder.pid)
    assert.equal(0, code)
    assert_printable(out)
    assert.matches("c\\x1b[1m\\xffx", out, 1, true)
  end)
end)

describe("map_elems output matches bpftool", function()
  local bpffs, dir, hash, percpu

  setup(function()
    bpffs = H.bpffs()
    dir = bpffs.dir
    hash, percpu = bpffs.fs .. "/hash", bpffs.fs .. "/percpu"
    for _, cmd in ipairs {
      ("map create %s type hash key 4 value 12 entries 4 name out%d"):format(q(hash), me),
      -- a value with ESC, newline, NUL and bytes that are not UTF-8
      ("map update pinned %s key 0x1b 0x0a 0 0xff value 0x1b 0x5b 0x33 0x31 0x6d 0 0x0a 0xff 0xfe 0x9b 0x5c 0x22")
        :format(q(hash)),
      ("map update pinned %s key 1 0 0 0 value 1 2 3 4 5 6 7 8 9 10 11 12"):format(q(hash)),
      ("map create %s type percpu_array key 4 value 4 entries 2 name outp%d"):format(q(percpu), me),
      ("map update pinned %s key 1 0 0 0 value 0x1b 0x0a 0xff 0"):format(q(percpu)),
    } do
      local out, status = H.run("env -u LD_PRELOAD bpftool " .. cmd)
      assert(status == 0, cmd .. ": " .. out)
    end
  end)

  teardown(function()
    if bpffs then bpffs.remove() end
  end)

  local function bpftool(args)
    local out, status = H.run("env -u LD_PRELOAD bpftool " .. args)
    assert(status == 0, out)
    return out
  end

  it("the table prints keys and values as `bpftool map dump` does", function()
    local out, code = cli("map_elems --map " .. q(hash))
    assert.equal(0, code)
    assert_printable(out)
    -- bpftool: "key: 1b 0a 00 ff  value: 1b 5b ... 6d 00 0a ff  fe 9b 5c 22"
    local dump = bpftool("map dump pinned " .. q(hash))
    local n = 0
    for key, value in dump:gmatch("key: (.-)  value: ([^\n]+)") do
      n = n + 1
      assert.matches("  " .. key .. "  " .. value .. "\n", out, 1, true)
    end
    assert.equal(2, n)
  end)

  it("--json gives keys and values as bpftool --json does (arrays of \"0xHH\")", function()
    local out, code = cli("map_elems --map " .. q(hash) .. " --json")
    assert.equal(0, code)
    local mine = {}
    for _, e in ipairs(cjson.decode(out)) do mine[table.concat(e.key_bytes, " ")] = e.value_bytes end
    local dump = cjson.decode(bpftool("--json map dump pinned " .. q(hash)))
    assert.equal(2, #dump)
    for _, d in ipairs(dump) do
      assert.same(d.value, mine[table.concat(d.key, " ")])
    end
    -- and Python reads it as strict UTF-8 JSON
    local _, status = python(dir, "import json,sys; json.loads(sys.stdin.buffer.read().decode('utf-8'))", out)
    assert.equal(0, status)
  end)

  it("per-CPU values: one hex string per CPU, as bpftool's value (CPU NN) lines", function()
    local out, code = cli("map_elems --map " .. q(percpu) .. " --json")
    assert.equal(0, code)
    local mine = {}
    for _, e in ipairs(cjson.decode(out)) do mine[table.concat(e.key_bytes, " ")] = e.value_bytes end
    local dump = cjson.decode(bpftool("--json map dump pinned " .. q(percpu)))
    for _, d in ipairs(dump) do
      local values = mine[table.concat(d.key, " ")]
      assert.equal(#d.values, #values)
      for i, v in ipairs(d.values) do assert.same(v.value, values[v.cpu + 1], i) end
    end
    -- the table: "CPU0 | CPU1 | ..." in bpftool's hex
    local text = cli("map_elems --map " .. q(percpu))
    local plain = bpftool("map dump pinned " .. q(percpu))
    local cpus = {}
    for v in plain:match("key:\n01 00 00 00\n(.-)\n[kF]"):gmatch("value %(CPU %d+%): ([^\n]+)") do
      cpus[#cpus + 1] = v
    end
    assert.is_true(#cpus > 0)
    assert.matches("01 00 00 00  " .. table.concat(cpus, " | ") .. "\n", text, 1, true)
  end)
end)
