/* A program that embeds Lua 5.4 and bpfiter, linked from libbpfiter.a:
 * nothing needs to be installed for `require "bpfiter"` to work.
 *
 *     host [SCRIPT [ARGS...]]
 *
 * Runs SCRIPT (its ARGS are the chunk's `...`), or a built-in script that
 * walks this process's own tasks. Exits 1 with the error on stderr when
 * the script fails. */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bpfiter.h"

/* The pid comes from /proc/self/stat rather than from C so the built-in
 * script is plain Lua a user could copy into a file. */
static const char builtin[] =
	"local bpfiter = require 'bpfiter'\n"
	"local f = assert(io.open('/proc/self/stat'))\n"
	"local pid = f:read('n')\n"
	"f:close()\n"
	"local n, comm = 0, nil\n"
	"for t in assert(bpfiter.tasks { pid = pid }) do\n"
	"  n, comm = n + 1, t.comm\n"
	"end\n"
	"print(('tasks of pid %d: %d'):format(pid, n))\n"
	"print(('comm: %s'):format(comm))\n";

/* Appends a traceback, as the stock lua interpreter does; non-string
 * error values go through __tostring. */
static int on_error(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = luaL_tolstring(L, 1, NULL);
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Run under lua_pcall: opening a library can raise (out of memory, the
 * embedded Lua layer failing), and an unprotected error would abort. */
static int open_libs(lua_State *L)
{
	luaL_openlibs(L);
	luaL_requiref(L, "bpfiter", luaopen_bpfiter, 1);
	return 0;
}

int main(int argc, char **argv)
{
	lua_State *L = luaL_newstate();
	if (!L) {
		fputs("host: cannot create a Lua state\n", stderr);
		return 1;
	}
	lua_pushcfunction(L, on_error);
	lua_pushcfunction(L, open_libs);
	int status = lua_pcall(L, 0, 0, 1);
	if (status == LUA_OK)
		status = argc > 1 ? luaL_loadfile(L, argv[1])
				  : luaL_loadbuffer(L, builtin, sizeof builtin - 1, "=builtin");
	int nargs = 0;
	for (int i = 2; status == LUA_OK && i < argc; i++, nargs++)
		lua_pushstring(L, argv[i]);
	if (status == LUA_OK)
		status = lua_pcall(L, nargs, 0, 1);
	if (status != LUA_OK)
		fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
	/* Closing the state runs __gc, so iterators a script left open
	 * release their BPF links and fds before exit. */
	lua_close(L);
	return status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
