-- bpfiter.targets(): the iterator targets the running kernel offers, read
-- from its BTF, against what bpftool finds in the same BTF (and the C
-- header it makes of it), and the targets of this build the kernel lacks.
local bpfiter = require "bpfiter"
local H = require "helper"

-- Names NAME with both a function bpf_iter_NAME and a struct bpf_iter__NAME
-- in the kernel's BTF, as bpftool dumps it.
local function bpftool_targets()
  local p = assert(io.popen("bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null"))
  local funcs, structs = {}, {}
  for line in p:lines() do
    local f = line:match("^%[%d+%] FUNC 'bpf_iter_([%w_]+)'")
    local s = line:match("^%[%d+%] STRUCT 'bpf_iter__([%w_]+)'")
    if f then funcs[f] = true end
    if s then structs[s] = true end
  end
  p:close()
  local names = {}
  for name in pairs(structs) do
    if funcs[name] then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- Member names of struct bpf_iter__NAME in vmlinux.h, after meta: pointers
-- sit in one-member unions ("union { TYPE *NAME; };"), others ("u32 fd;")
-- do not.
local function context_of(vmlinux_h, name)
  local body = vmlinux_h:match("\nstruct bpf_iter__" .. name .. " {\n(.-)\n};")
  local out = {}
  for member in (body or ""):gmatch("([%a_][%w_]*);") do -- not "long: 0;"
    if member ~= "meta" then out[#out + 1] = member end
  end
  return out
end

describe("targets()", function()
  local list

  setup(function()
    list = assert(bpfiter.targets())
  end)

  it("lists exactly the kernel's iterator targets, sorted, as bpftool finds them in its BTF", function()
    local names = {}
    for _, t in ipairs(list) do
      if t.offered then names[#names + 1] = t.name end
    end
    assert.same(bpftool_targets(), names)
    assert.is_true(#names >= 10)
    -- what every kernel bpfiter supports (6.1 on) has
    for _, want in ipairs { "task", "task_file", "task_vma", "bpf_map", "bpf_map_elem", "bpf_prog",
      "bpf_link", "ksym", "cgroup" } do
      assert.is_truthy(table.concat(names, " "):match("%f[%w_]" .. want .. "%f[^%w_]"), want)
    end
  end)

  it("names what a program of each target receives, as the kernel's context struct", function()
    -- the running kernel's header, not the build's: the build may come
    -- from another kernel (one build runs on all, vm/)
    local vmlinux_h = H.run("bpftool btf dump file /sys/kernel/btf/vmlinux format c")
    for _, t in ipairs(list) do
      assert.same(t.offered and context_of(vmlinux_h, t.name) or {}, t.context, t.name)
    end
    local by = H.by(list, "name")
    assert.same({ "task" }, by.task.context)
    assert.same({ "task", "fd", "file" }, by.task_file.context)
    assert.same({ "map", "key", "value" }, by.bpf_map_elem.context)
  end)

  it("says which bpfiter function decodes each target, every function once", function()
    local seen = {}
    for _, t in ipairs(list) do
      assert.equal(#t.bpfiter > 0, t.decoded, t.name)
      for _, d in ipairs(t.bpfiter) do
        assert.is_nil(seen[d.name], d.name)
        seen[d.name] = t.name
        assert.is_function(bpfiter[d.name], d.name)
      end
    end
    assert.equal("task", seen.tasks)
    assert.equal("task_file", seen.files)
    assert.equal("task_vma", seen.vmas)
    assert.equal("bpf_prog", seen.bpf_progs)
    assert.equal("bpf_map", seen.bpf_maps)
    assert.equal("bpf_link", seen.bpf_links)
    assert.equal("bpf_map_elem", seen.map_elems)
    assert.equal("ksym", seen.ksyms)
    assert.equal("kmem_cache", seen.kmem_caches)
    assert.equal("dmabuf", seen.dmabufs)
    for _, name in ipairs(bpfiter.target_names) do
      assert.is_not_nil(seen[name], name .. " is not listed")
    end
  end)

  it("says which functions cannot work on this kernel, and why, as calling them does", function()
    local release = H.run("uname -r"):match("^(%d+%.%d+)")
    local unavailable = 0
    for _, t in ipairs(list) do
      for _, d in ipairs(t.bpfiter) do
        assert.is_boolean(d.available, d.name)
        if not t.offered then assert.is_false(d.available, d.name) end
        if not d.available then
          unavailable = unavailable + 1
          assert.matches("^needs kernel >= %d+%.%d+ %(.+%), this is " .. release:gsub("%.", "%%.") .. "$",
            d.reason)
          local ok, f, msg, errno = pcall(bpfiter[d.name], {})
          assert.is_true(ok and f == nil, d.name .. " works but is listed unavailable")
          assert.equal(d.name .. ": " .. d.reason .. ": Operation not supported", msg)
          assert.equal(95, errno) -- ENOTSUP
        else
          assert.is_nil(d.reason, d.name)
        end
      end
    end
    -- 6.18 has everything; Debian 12's 6.1 lacks four targets (README)
    local major, minor = release:match("(%d+)%.(%d+)")
    if tonumber(major) * 1000 + tonumber(minor) >= 6016 then assert.equal(0, unavailable) end
  end)

  it("starts a walk of every available target (those that need no option)", function()
    local started = 0
    for _, t in ipairs(list) do
      for _, d in ipairs(t.bpfiter) do
        local ok, step, it, errno = pcall(bpfiter[d.name])
        if not d.available then
          assert.is_nil(step, d.name)
        elseif ok then
          assert.is_function(step, ("%s: %s (%s)"):format(d.name, tostring(it), tostring(errno)))
          it:close()
          started = started + 1
        else
          assert.matches("is required", step) -- map_elems needs its map
        end
      end
    end
    assert.is_true(started >= 10)
  end)

  it("lists the options each function takes, as the function checks them", function()
    local samples = { integer = "x", boolean = 1, string = {}, ["integer|string"] = true, fields = "x" }
    for _, t in ipairs(list) do
      for _, d in ipairs(t.bpfiter) do
        assert.same(bpfiter.options[d.name], d.options)
        for _, o in ipairs(d.options) do
          assert.is_truthy(o.scope == "kernel" or o.scope == "reader" or o.scope == "lua")
          local wrong = samples[o.type]
          assert.is_not_nil(wrong, o.type)
          local ok, err = pcall(bpfiter[d.name], { [o.name] = wrong })
          assert.is_false(ok)
          assert.matches(("option '%s' must be"):format(o.name), err, 1, true)
        end
        local ok, err = pcall(bpfiter[d.name], { not_an_option = 1 })
        assert.is_false(ok)
        assert.matches(("unknown option 'not_an_option' for %s"):format(d.name), err, 1, true)
      end
    end
    local by = H.by(list, "name")
    local function brief(options)
      local out = {}
      for i, o in ipairs(options) do out[i] = { name = o.name, type = o.type, scope = o.scope } end
      return out
    end
    -- fields: the option every walk takes (projection), last
    local fields = { name = "fields", type = "fields", scope = "reader" }
    assert.same({ { name = "pid", type = "integer", scope = "kernel" },
      { name = "threads", type = "boolean", scope = "reader" }, fields }, brief(by.task.bpfiter[1].options))
    assert.same({ { name = "map", type = "integer|string", scope = "kernel" }, fields },
      brief(by.bpf_map_elem.bpfiter[1].options))
  end)

  it("returns fresh tables on every call", function()
    local again = assert(bpfiter.targets())
    assert.same(list, again)
    again[1].name = "changed"
    again[1].bpfiter[1] = nil
    local third = assert(bpfiter.targets())
    assert.same(list, third)
  end)

end)
