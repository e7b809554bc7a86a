/* Lua 5.4 has no monotonic clock (os.clock is CPU time, os.time whole
 * seconds), so the benchmark compiles this at run time into a temporary
 * directory and loads it with package.loadlib. It is not part of bpfiter. */
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

/* CLOCK_MONOTONIC in integer nanoseconds. */
static int clock_now(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000000000 + ts.tv_nsec);
	return 1;
}

int luaopen_bench_clock(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{ "now", clock_now },
		{ NULL, NULL },
	};

	luaL_newlib(L, functions);
	return 1;
}
