/* The generic collector object: core.NAME(...) -> collector | nil,
 * message, errno, collecting at once; collector:snapshot(), :reset(),
 * :wait(seconds), :close() (also __close and __gc, safe twice). What
 * differs between collectors is in their struct collector_ops. */
#include "collector.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "fds.h"
#include "program.h"

#define COLLECTOR_MT "bpfiter.collector"

static const struct collector_ops *const collectors[] = {
	&cpu_wait_collector,
	&cache_activity_collector,
};

struct collector {
	const struct collector_ops *ops;
	void *skel;	/* NULL once closed */
};

void collector_read_counters(struct bpf_map *map, uint32_t n, uint64_t *sums)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v = calloc(ncpus > 0 ? (size_t)ncpus : 1, sizeof(uint64_t));

	for (uint32_t i = 0; i < n; i++) {
		sums[i] = 0;
		if (v && ncpus > 0 && bpf_map_lookup_elem(bpf_map__fd(map), &i, v) == 0)
			for (int cpu = 0; cpu < ncpus; cpu++)
				sums[i] += v[cpu];
	}
	free(v);
}

int collector_set_counter(struct bpf_map *map, uint32_t which, uint64_t value)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	uint64_t *v;

	if (ncpus <= 0)
		return -ncpus;
	v = calloc((size_t)ncpus, sizeof(uint64_t));
	if (!v)
		return ENOMEM;
	v[0] = value;
	if (bpf_map_update_elem(bpf_map__fd(map), &which, v, BPF_ANY))
		err = errno;
	free(v);
	return err;
}

static struct collector *check_open(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, COLLECTOR_MT);

	if (!c->skel)
		luaL_error(L, "bpfiter: %s: collector is closed", c->ops->name);
	return c;
}

/* Opens, loads and attaches c's programs. Returns 0 or an errno; c->skel
 * is NULL on failure. */
static int collector_start(lua_State *L, const struct collector_ops *ops, struct collector *c)
{
	struct bpf_object_skeleton *obj = NULL;
	int err;

	bpfiter_libbpf_capture();
	err = ops->open(L, &c->skel, &obj);
	if (!err)
		err = -bpf_object__load_skeleton(obj);
	if (!err)
		err = -bpf_object__attach_skeleton(obj);
	if (err && c->skel)
		ops->stop(c->skel);
	if (err)
		c->skel = NULL;
	return err;
}

static int collector_open(lua_State *L)
{
	const struct collector_ops *ops = lua_touserdata(L, lua_upvalueindex(1));
	struct collector *c;
	const char *why;
	int err;

	/* The object goes above the arguments, which open() reads at 1..nargs. */
	lua_settop(L, ops->nargs);
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->ops = ops;
	c->skel = NULL;
	luaL_setmetatable(L, COLLECTOR_MT);
	err = collector_start(L, ops, c);
	if (err && fds_reclaim(L, err))
		err = collector_start(L, ops, c);
	if (!err)
		return 1;
	why = bpfiter_libbpf_last();
	return bpfiter_fail(L, err, ops->name, "loading the %s failed%s%s%s%s", ops->programs,
			    program_load_hint(err), *why ? " [libbpf: " : "", why, *why ? "]" : "");
}

static int collector_snapshot(lua_State *L)
{
	struct collector *c = check_open(L);

	return c->ops->snapshot(L, c->skel);
}

/* Forgets what was collected so far; collecting goes on. */
static int collector_reset(lua_State *L)
{
	struct collector *c = check_open(L);
	int err = c->ops->reset(c->skel);

	if (err)
		return bpfiter_fail(L, err, c->ops->name, "reset");
	lua_settop(L, 1);
	return 1;
}

/* collector:wait(seconds): sleeps while collecting, resuming after signals;
 * returns the collector. */
static int collector_wait(lua_State *L)
{
	lua_Number s;
	struct timespec ts;

	check_open(L);
	s = luaL_checknumber(L, 2);
	luaL_argcheck(L, s >= 0 && s < 1e9, 2, "seconds must be a non-negative number");
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	lua_settop(L, 1);
	return 1;
}

/* Detaches the programs and frees the maps. */
static int collector_close(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, COLLECTOR_MT);

	if (c->skel)
		c->ops->stop(c->skel);
	c->skel = NULL;
	return 0;
}

static int collector_tostring(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, COLLECTOR_MT);

	lua_pushfstring(L, "bpfiter.%s: %s", c->ops->name, c->skel ? "collecting" : "closed");
	return 1;
}

void collectors_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "snapshot", collector_snapshot },
		{ "reset", collector_reset },
		{ "wait", collector_wait },
		{ "close", collector_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__close", collector_close },
		{ "__gc", collector_close },
		{ "__tostring", collector_tostring },
		{ NULL, NULL },
	};

	if (luaL_newmetatable(L, COLLECTOR_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	for (size_t i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++) {
		lua_pushlightuserdata(L, (void *)collectors[i]);
		lua_pushcclosure(L, collector_open, 1);
		lua_setfield(L, -2, collectors[i]->name);
	}
}
