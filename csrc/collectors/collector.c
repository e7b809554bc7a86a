/* What the event collectors (cpu_wait, cache_activity) share. */
#include "collector.h"

#include <errno.h>
#include <time.h>

#include <lauxlib.h>

void collector_sleep(lua_State *L, int arg)
{
	lua_Number s = luaL_checknumber(L, arg);
	struct timespec ts;

	luaL_argcheck(L, s >= 0 && s < 1e9, arg, "seconds must be a non-negative number");
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
