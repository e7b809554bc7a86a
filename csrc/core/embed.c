/* For hosts that link libbpfiter.a: the Lua layer (every module in
 * lua/bpfiter but the CLI) is compiled in, so no .lua file needs to be installed. */
#include <lauxlib.h>

#include "bpfiter.h"
#include "embedded_lua.h"

/* package.preload loader of one embedded module (upvalue 1). */
static int load_embedded(lua_State *L)
{
	const struct bpfiter_embedded_lua *m = lua_touserdata(L, lua_upvalueindex(1));

	if (luaL_loadbufferx(L, m->source, m->size, m->chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, m->module);
	lua_call(L, 1, 1);
	return 1;
}

int luaopen_bpfiter(lua_State *L)
{
	bpfiter_preload(L);	/* the modules init.lua loads on first use */
	lua_pushlightuserdata(L, (void *)&bpfiter_embedded_lua[0]);	/* init.lua comes first */
	lua_pushcclosure(L, load_embedded, 1);
	lua_call(L, 0, 1);
	return 1;
}

void bpfiter_preload(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_bpfiter_core);
	lua_setfield(L, -2, "bpfiter.core");
	for (const struct bpfiter_embedded_lua *m = bpfiter_embedded_lua; m->module; m++) {
		lua_getfield(L, -1, m->module);
		if (lua_isnil(L, -1)) {
			lua_pushlightuserdata(L, (void *)m);
			lua_pushcclosure(L, load_embedded, 1);
			lua_setfield(L, -3, m->module);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}
