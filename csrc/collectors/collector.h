/* The event collectors (cpu_wait, cache_activity): BPF programs attached to
 * tracepoints for as long as a Lua object lives, counting into BPF maps that
 * snapshot() reads. Not iterator targets. One generic Lua object (one
 * metatable, one constructor shape, one error message) serves them all;
 * each collector is a struct collector_ops: how to start, read, reset and
 * stop its skeleton. */
#ifndef BPFITER_COLLECTOR_H
#define BPFITER_COLLECTOR_H

#include <stdint.h>
#include <lua.h>

struct bpf_object_skeleton;

struct collector_ops {
	const char *name;	/* core.NAME, errors' and __tostring's prefix */
	const char *programs;	/* what failed to load, for the message */
	int nargs;		/* the constructor's arguments, all optional */
	/* Opens the skeleton into *skel (and its generic part into *obj),
	 * sized from the constructor's arguments at 1..n, which it checks
	 * first (raising). Returns 0, or an errno with nothing left open. The
	 * generic part loads and attaches it. */
	int (*open)(lua_State *L, void **skel, struct bpf_object_skeleton **obj);
	/* Push the snapshot's values and return their count, or push the
	 * failure triple. */
	int (*snapshot)(lua_State *L, void *skel);
	/* Returns 0 or an errno. */
	int (*reset)(void *skel);
	void (*stop)(void *skel);
};

/* The collectors' per-CPU counter arrays (BPF_MAP_TYPE_PERCPU_ARRAY of
 * u64). collector_read_counters: the first n, each summed over the CPUs
 * (0 where unreadable). collector_set_counter: counter `which` := value
 * (on the first CPU, 0 on the others); returns 0 or an errno. */
struct bpf_map;
void collector_read_counters(struct bpf_map *map, uint32_t n, uint64_t *sums);
int collector_set_counter(struct bpf_map *map, uint32_t which, uint64_t value);

extern const struct collector_ops cpu_wait_collector, cache_activity_collector;

/* Adds core.cpu_wait and core.cache_activity to the table on top. */
void collectors_register(lua_State *L);

#endif
