/* Lua 5.4 has no monotonic clock (os.clock is CPU time, os.time whole
 * seconds) and no split of CPU time into user and system, so the benchmark compiles this at run time into a temporary
 * directory and loads it with package.loadlib. It is not part of bpfiter. */
#include <sys/resource.h>
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

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* CPU seconds, user and system, of this process (who omitted) or of its
 * waited-for children (who = "children"). */
static int clock_cpu(lua_State *L)
{
	struct rusage ru;

	getrusage(lua_isnoneornil(L, 1) ? RUSAGE_SELF : RUSAGE_CHILDREN, &ru);
	lua_pushnumber(L, seconds(ru.ru_utime));
	lua_pushnumber(L, seconds(ru.ru_stime));
	return 2;
}

int luaopen_bench_clock(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{ "now", clock_now },
		{ "cpu", clock_cpu },
		{ NULL, NULL },
	};

	luaL_newlib(L, functions);
	return 1;
}
