/* core.cpu_wait(): a collector of run-queue wait per cgroup v2. Not an
 * iterator target: three tp_btf programs (cpu_wait.bpf.c) fill per-cgroup
 * log2 histograms in a BPF map while the collector is open; snapshot()
 * reads them, summed over CPUs. Lua (lua/bpfiter/cpu_wait.lua) joins them with
 * a cgroup walk and computes the statistics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "errors.h"
#include "cpu_wait_record.h"
#include "cpu_wait.skel.h"

#define NAME "cpu_wait"

static int open_skeleton(lua_State *L, void **skel, struct bpf_object_skeleton **obj)
{
	struct cpu_wait_bpf *s = cpu_wait_bpf__open();

	(void)L;
	if (!s)
		return errno;
	*skel = s;
	*obj = s->skeleton;
	return 0;
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
static int snapshot(lua_State *L, void *skel)
{
	struct cpu_wait_bpf *s = skel;
	int ncpus = libbpf_num_possible_cpus();
	size_t stride = (sizeof(struct cpu_wait_hist) + 7) & ~(size_t)7;
	int fd = bpf_map__fd(s->maps.hists);
	uint64_t key, next, dropped;
	void *values;
	bool first = true;

	if (ncpus <= 0)
		return bpfiter_fail(L, -ncpus, NAME, "counting CPUs");
	values = malloc(stride * (size_t)ncpus);
	if (!values)
		return bpfiter_fail(L, ENOMEM, NAME, "snapshot");
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
	collector_read_counters(s->maps.counters, 1, &dropped);
	lua_pushinteger(L, (lua_Integer)dropped);
	free(values);
	return 2;
}

/* Forgets every sample so far. */
static int reset(void *skel)
{
	struct cpu_wait_bpf *s = skel;
	int fd = bpf_map__fd(s->maps.hists);
	uint64_t key;

	/* Delete the first key until none is left; new cgroups can appear
	 * meanwhile, hence the bound. */
	for (int i = 0; i < 2 * CPU_WAIT_MAX_CGROUPS; i++) {
		if (bpf_map_get_next_key(fd, NULL, &key))
			break;
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return errno;
	}
	return collector_set_counter(s->maps.counters, CPU_WAIT_DROPPED, 0);
}

static void stop(void *skel)
{
	cpu_wait_bpf__destroy(skel);
}

const struct collector_ops cpu_wait_collector = {
	.name = NAME,
	.programs = "scheduler tracepoint programs",
	.open = open_skeleton,
	.snapshot = snapshot,
	.reset = reset,
	.stop = stop,
};
