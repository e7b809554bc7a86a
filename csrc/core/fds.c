#include "fds.h"

#include <errno.h>

bool fds_reclaim(lua_State *L, int err)
{
	if (err != EMFILE && err != ENFILE)
		return false;
	lua_gc(L, LUA_GCCOLLECT);
	return true;
}
