/* core.cpu_wait(): a collector of run-queue wait per cgroup v2. Not an
 * iterator target: three tp_btf programs (cpu_wait.bpf.c) fill per-cgroup
 * log2 histograms in a BPF map while the collector is open; snapshot()
 * reads them, summed over CPUs. Lua (lua/bpfiter/stats.lua) joins them with
 * a cgroup walk and computes the statistics. */
#include "cpu_wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "errors.h"
#include "fds.h"
#include "cpu_wait_record.h"
#include "cpu_wait.skel.h"

#define CPU_WAIT_MT "bpfiter.cpu_wait"
#define NAME "cpu_wait"

struct collector {
	struct cpu_wait_bpf *skel;	/* NULL once closed */
};

static struct collector *check_open(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CPU_WAIT_MT);

	if (!c->skel)
		luaL_error(L, "bpfiter: " NAME ": collector is closed");
	return c;
}

/* Opens, loads and attaches the programs into c. Returns 0 or an errno;
 * c->skel stays NULL on failure. */
static int cpu_wait_start(struct collector *c)
{
	int err;

	bpfiter_libbpf_capture();
	c->skel = cpu_wait_bpf__open();
	if (!c->skel)
		return errno;
	err = -cpu_wait_bpf__load(c->skel);
	if (!err)
		err = -cpu_wait_bpf__attach(c->skel);
	if (err) {
		cpu_wait_bpf__destroy(c->skel);
		c->skel = NULL;
	}
	return err;
}

/* core.cpu_wait() -> collector | nil, message, errno. Collecting starts
 * at once. */
static int cpu_wait_open(lua_State *L)
{
	struct collector *c = lua_newuserdatauv(L, sizeof(*c), 0);
	const char *why, *hint = "";
	int err;

	c->skel = NULL;
	luaL_setmetatable(L, CPU_WAIT_MT);
	err = cpu_wait_start(c);
	if (err && fds_reclaim(L, err))
		err = cpu_wait_start(c);
	if (!err)
		return 1;
	why = bpfiter_libbpf_last();
	if (err == EPERM || (err == EACCES && geteuid() != 0))
		hint = " (needs root, or CAP_BPF and CAP_PERFMON)";
	return bpfiter_fail(L, err, NAME, "loading the scheduler tracepoint programs failed%s%s%s%s",
			    hint, *why ? " [libbpf: " : "", why, *why ? "]" : "");
}

/* Sum of a per-CPU value over all possible CPUs. */
static uint64_t percpu_sum(const void *values, size_t stride, int ncpus, size_t offset)
{
	uint64_t sum = 0, v;

	for (int i = 0; i < ncpus; i++) {
		memcpy(&v, (const char *)values + (size_t)i * stride + offset, sizeof(v));
		sum += v;
	}
	return sum;
}

/* collector:snapshot() -> {[cgroup id] = {count =, total_ns =, max_ns =,
 * hist = {[k] = n}}}, dropped. hist[k] counts waits of [2^k, 2^(k+1)) ns. */
static int cpu_wait_snapshot(lua_State *L)
{
	struct collector *c = check_open(L);
	int ncpus = libbpf_num_possible_cpus();
	size_t stride = (sizeof(struct cpu_wait_hist) + 7) & ~(size_t)7;
	int fd = bpf_map__fd(c->skel->maps.hists);
	uint64_t key, next, *counters;
	void *values;
	bool first = true;
	__u32 zero = CPU_WAIT_DROPPED;

	if (ncpus <= 0)
		return bpfiter_fail(L, -ncpus, NAME, "counting CPUs");
	values = malloc(stride * (size_t)ncpus);
	counters = malloc(sizeof(uint64_t) * (size_t)ncpus);
	if (!values || !counters) {
		free(values);
		free(counters);
		return bpfiter_fail(L, ENOMEM, NAME, "snapshot");
	}
	lua_newtable(L);
	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, values))
			continue;	/* removed meanwhile (reset) */
		lua_createtable(L, 0, 4);
		lua_pushinteger(L, (lua_Integer)percpu_sum(values, stride, ncpus,
				offsetof(struct cpu_wait_hist, count)));
		lua_setfield(L, -2, "count");
		lua_pushinteger(L, (lua_Integer)percpu_sum(values, stride, ncpus,
				offsetof(struct cpu_wait_hist, total_ns)));
		lua_setfield(L, -2, "total_ns");
		uint64_t max = 0;
		for (int i = 0; i < ncpus; i++) {
			const struct cpu_wait_hist *h = (const void *)((char *)values + (size_t)i * stride);
			if (h->max_ns > max)
				max = h->max_ns;
		}
		lua_pushinteger(L, (lua_Integer)max);
		lua_setfield(L, -2, "max_ns");
		lua_newtable(L);
		for (int k = 0; k < CPU_WAIT_SLOTS; k++) {
			uint64_t n = percpu_sum(values, stride, ncpus,
						offsetof(struct cpu_wait_hist, slots) +
						(size_t)k * sizeof(uint64_t));
			if (n) {
				lua_pushinteger(L, (lua_Integer)n);
				lua_rawseti(L, -2, k);
			}
		}
		lua_setfield(L, -2, "hist");
		lua_rawseti(L, -2, (lua_Integer)key);
	}
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.counters), &zero, counters) == 0)
		lua_pushinteger(L, (lua_Integer)percpu_sum(counters, sizeof(uint64_t), ncpus, 0));
	else
		lua_pushinteger(L, 0);
	free(values);
	free(counters);
	return 2;
}

/* collector:reset(): forget every sample so far; collecting goes on. */
static int cpu_wait_reset(lua_State *L)
{
	struct collector *c = check_open(L);
	int fd = bpf_map__fd(c->skel->maps.hists);
	int ncpus = libbpf_num_possible_cpus();
	uint64_t key, *zeros;
	__u32 dropped = CPU_WAIT_DROPPED;

	/* Delete the first key until none is left; new cgroups can appear
	 * meanwhile, hence the bound. */
	for (int i = 0; i < 2 * CPU_WAIT_MAX_CGROUPS; i++) {
		if (bpf_map_get_next_key(fd, NULL, &key))
			break;
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return bpfiter_fail(L, errno, NAME, "reset");
	}
	zeros = calloc(ncpus > 0 ? (size_t)ncpus : 1, sizeof(uint64_t));
	if (zeros)
		bpf_map_update_elem(bpf_map__fd(c->skel->maps.counters), &dropped, zeros, BPF_ANY);
	free(zeros);
	lua_settop(L, 1);
	return 1;
}

/* collector:wait(seconds): sleep while collecting; returns the collector. */
static int cpu_wait_wait(lua_State *L)
{
	check_open(L);
	collector_sleep(L, 2);
	lua_settop(L, 1);
	return 1;
}

/* close, __close, __gc: detach the programs, free the maps; twice is fine. */
static int cpu_wait_close(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CPU_WAIT_MT);

	if (c->skel)
		cpu_wait_bpf__destroy(c->skel);
	c->skel = NULL;
	return 0;
}

static int cpu_wait_tostring(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CPU_WAIT_MT);

	lua_pushfstring(L, CPU_WAIT_MT ": %s", c->skel ? "collecting" : "closed");
	return 1;
}

void cpu_wait_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "snapshot", cpu_wait_snapshot },
		{ "reset", cpu_wait_reset },
		{ "wait", cpu_wait_wait },
		{ "close", cpu_wait_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__close", cpu_wait_close },
		{ "__gc", cpu_wait_close },
		{ "__tostring", cpu_wait_tostring },
		{ NULL, NULL },
	};

	if (luaL_newmetatable(L, CPU_WAIT_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, cpu_wait_open);
	lua_setfield(L, -2, "cpu_wait");
}
