/* luaopen_bpfiter_core: one function per target, all sharing the generic
 * iterator, plus the list of target names. */
#include <lauxlib.h>

#include "bpfiter.h"
#include "iterator.h"
#include "target.h"

int luaopen_bpfiter_core(lua_State *L)
{
	iterator_register(L);
	lua_createtable(L, 0, (int)bpfiter_ntargets + 2);
	lua_createtable(L, (int)bpfiter_ntargets, 0);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		const struct target *t = bpfiter_targets[i];

		lua_pushstring(L, t->name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
		lua_pushlightuserdata(L, (void *)t);
		lua_pushcclosure(L, iterator_open, 1);
		lua_setfield(L, -3, t->name);
	}
	lua_setfield(L, -2, "targets");
	view_register(L);
	lua_pushliteral(L, BPFITER_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
