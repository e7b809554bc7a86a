-- The published rock. `make rock` packs this rockspec with an archive of the
-- tree named as source.url ends (v0.1.0.tar.gz), so
--   luarocks --lua-version=5.4 install build/bpfiter-0.1.0-1.src.rock
-- builds offline. From a checkout: luarocks --lua-version=5.4 make
-- rockspec/bpfiter-0.1.0-1.rockspec. Building needs clang, llvm, bpftool,
-- libbpf-dev and liblua5.4-dev (`make deps` installs them on Debian).
rockspec_format = "3.0"
package = "bpfiter"
version = "0.1.0-1"
source = {
  url = "https://github.com/bpfiter/bpfiter/archive/refs/tags/v0.1.0.tar.gz",
  dir = "bpfiter-0.1.0",
}
description = {
  summary = "Walk live Linux kernel objects from Lua through BPF iterators",
  detailed = [[
Tasks, open files, memory maps, epoll sets, the page cache, sockets,
cgroups and BPF objects as typed Lua values, read in one pass by verified
BPF iterator programs. Needs Lua 5.4 and Linux with BTF.]],
  homepage = "https://github.com/bpfiter/bpfiter",
}
supported_platforms = { "linux" }
dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson >= 2.1", -- the CLI's --json
  "luv >= 1.36", -- bpfiter serve
}
build = {
  type = "make",
  -- build/rock: inside the ignored build/ (so `make clean` removes it)
  -- but apart from `make`'s own build/, so neither clobbers the other
  -- (luarocks' CFLAGS differ from the defaults).
  build_variables = {
    B = "build/rock",
    LUA_INCDIR = "$(LUA_INCDIR)",
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
  },
  install_target = "install-lua",
  -- the man page and the LuaCATS file, in the rock's directory
  -- (luarocks doc bpfiter shows where)
  copy_directories = { "docs" },
  install_variables = {
    B = "build/rock",
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "$(BINDIR)",
  },
}
test_dependencies = { "busted" }
test = {
  -- The specs need root, the fixtures and the build: make check runs busted.
  type = "command",
  command = "make check",
}
