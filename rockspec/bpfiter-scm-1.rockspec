-- Build from the project root (luarocks make uses the current directory
-- as the source tree, not the rockspec's directory):
--   luarocks make --lua-version=5.4 rockspec/bpfiter-scm-1.rockspec
-- Offline: make builds from the files present; needs clang, bpftool,
-- libbpf-dev and liblua5.4-dev (`make deps` installs them on Debian).
rockspec_format = "3.0"
package = "bpfiter"
version = "scm-1"
-- Required by the format; `luarocks make` never fetches it.
source = { url = "git+file://." }
description = {
  summary = "Walk live Linux kernel objects from Lua through BPF iterators",
}
dependencies = { "lua >= 5.4" }
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
  install_variables = {
    B = "build/rock",
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "$(BINDIR)",
  },
}
