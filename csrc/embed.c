/* For hosts that link libbpfiter.a: the Lua layer (lua/bpfiter/init.lua)
 * is compiled in, so no .lua file needs to be installed. */
#include <lauxlib.h>

#include "bpfiter.h"

extern const char bpfiter_init_lua[];
extern const unsigned long bpfiter_init_lua_size;

int luaopen_bpfiter(lua_State *L)
{
	bpfiter_preload(L);
	if (luaL_loadbufferx(L, bpfiter_init_lua, bpfiter_init_lua_size,
			     "=bpfiter/init.lua", "t") != LUA_OK)
		return lua_error(L);
	lua_pushliteral(L, "bpfiter");
	lua_call(L, 1, 1);
	return 1;
}

void bpfiter_preload(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_bpfiter_core);
	lua_setfield(L, -2, "bpfiter.core");
	lua_getfield(L, -1, "bpfiter");
	if (lua_isnil(L, -1)) {
		lua_pushcfunction(L, luaopen_bpfiter);
		lua_setfield(L, -3, "bpfiter");
	}
	lua_pop(L, 2);
}
