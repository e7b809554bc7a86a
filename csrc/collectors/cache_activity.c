/* core.cache_activity(): a collector of page-cache activity per inode. Not
 * an iterator target: three tp_btf programs (cache_activity.bpf.c) count
 * pages added, removed, refaulted and dirtied per inode, and the processes
 * that added them, in LRU hash maps while the collector is open;
 * snapshot() reads them. Lua (lua/bpfiter/activity.lua) ranks the
 * processes, computes what was dropped and joins rows with page-cache
 * walks. */
#include "cache_activity.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "errors.h"
#include "fds.h"
#include "cache_activity_record.h"
#include "cache_activity.skel.h"

#define CACHE_ACTIVITY_MT "bpfiter.cache_activity"
#define NAME "cache_activity"

struct collector {
	struct cache_activity_bpf *skel;	/* NULL once closed */
};

static struct collector *check_open(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CACHE_ACTIVITY_MT);

	if (!c->skel)
		luaL_error(L, "bpfiter: " NAME ": collector is closed");
	return c;
}

/* Table sizes come from Lua already checked; the bound here only keeps a
 * direct caller of the core from asking for absurd maps. */
static __u32 check_size(lua_State *L, int arg, __u32 dflt)
{
	lua_Integer n = luaL_optinteger(L, arg, dflt);

	if (n < 1 || n > (1 << 24))
		bpfiter_argerror(L, arg, "table size must be in 1..16777216, got %lld", (long long)n);
	return (__u32)n;
}

/* Opens, sizes, loads and attaches the programs into c. Returns 0 or an
 * errno; c->skel stays NULL on failure. */
static int cache_activity_start(struct collector *c, __u32 inodes, __u32 ghosts, __u32 fillers)
{
	int err;

	bpfiter_libbpf_capture();
	c->skel = cache_activity_bpf__open();
	if (!c->skel)
		return errno;
	err = -bpf_map__set_max_entries(c->skel->maps.inodes, inodes);
	if (!err)
		err = -bpf_map__set_max_entries(c->skel->maps.ghosts, ghosts);
	if (!err)
		err = -bpf_map__set_max_entries(c->skel->maps.fillers, fillers);
	if (!err)
		err = -cache_activity_bpf__load(c->skel);
	if (!err)
		err = -cache_activity_bpf__attach(c->skel);
	if (err) {
		cache_activity_bpf__destroy(c->skel);
		c->skel = NULL;
	}
	return err;
}

/* core.cache_activity([max_inodes, max_ghosts, max_fillers]) -> collector
 * | nil, message, errno. Collecting starts at once. */
static int cache_activity_open(lua_State *L)
{
	__u32 inodes = check_size(L, 1, CA_MAX_INODES);
	__u32 ghosts = check_size(L, 2, CA_MAX_GHOSTS);
	__u32 fillers = check_size(L, 3, CA_MAX_FILLERS);
	struct collector *c = lua_newuserdatauv(L, sizeof(*c), 0);
	const char *why, *hint = "";
	int err;

	c->skel = NULL;
	luaL_setmetatable(L, CACHE_ACTIVITY_MT);
	err = cache_activity_start(c, inodes, ghosts, fillers);
	if (err && fds_reclaim(L, err))
		err = cache_activity_start(c, inodes, ghosts, fillers);
	if (!err)
		return 1;
	why = bpfiter_libbpf_last();
	if (err == EPERM || (err == EACCES && geteuid() != 0))
		hint = " (needs root, or CAP_BPF and CAP_PERFMON)";
	return bpfiter_fail(L, err, NAME, "loading the page-cache tracepoint programs failed%s%s%s%s",
			    hint, *why ? " [libbpf: " : "", why, *why ? "]" : "");
}

/* Userland dev_t as glibc's makedev() builds it, so it compares equal to
 * stat()'s st_dev (as csrc/decode.c does for the iterator records). */
static lua_Integer userland_dev(uint32_t kdev)
{
	uint64_t major = kdev >> 20, minor = kdev & 0xfffff;

	return (lua_Integer)(((major & 0xfffff000ULL) << 32) | ((major & 0xfffULL) << 8) |
			     ((minor & 0xffffff00ULL) << 12) | (minor & 0xffULL));
}

/* Every entry of a hash map, by batches, into arrays big enough for all
 * of them (the caller frees *keys and *values). Returns the count, or -1
 * with errno set. Entries changing meanwhile may be seen or not. */
static long read_map(struct bpf_map *map, void **keys, void **values)
{
	int fd = bpf_map__fd(map);
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	__u32 max = bpf_map__max_entries(map), n = 0, count, in = 0, out = 0;
	char *k = malloc(ksz * max), *v = malloc(vsz * max);
	bool first = true;

	*keys = k;
	*values = v;
	if (!k || !v) {
		errno = ENOMEM;
		return -1;
	}
	while (n < max) {
		count = max - n;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, k + n * ksz,
					       v + n * vsz, &count, NULL);
		n += count;
		in = out;
		first = false;
		if (err) {
			if (errno == ENOENT)	/* the end */
				break;
			if (errno == ENOSPC && n > 0)	/* a bucket larger than the room left */
				break;
			return -1;
		}
	}
	return n;
}

static void push_key_fields(lua_State *L, const struct ca_inode_key *k)
{
	lua_pushinteger(L, userland_dev(k->dev));
	lua_setfield(L, -2, "dev");
	lua_pushinteger(L, k->dev >> 20);
	lua_setfield(L, -2, "major");
	lua_pushinteger(L, k->dev & 0xfffff);
	lua_setfield(L, -2, "minor");
	lua_pushinteger(L, (lua_Integer)k->ino);
	lua_setfield(L, -2, "inode");
	lua_pushinteger(L, k->generation);
	lua_setfield(L, -2, "generation");
}

#define SET_INT(L, value, name)                          \
	do {                                             \
		lua_pushinteger(L, (lua_Integer)(value)); \
		lua_setfield(L, -2, name);               \
	} while (0)

/* Appends {pid =, comm =, pages =} to the array on top. */
static void push_task(lua_State *L, __u32 tgid, const char comm[16], __u64 pages)
{
	lua_createtable(L, 0, 3);
	SET_INT(L, tgid, "pid");
	lua_pushlstring(L, comm, strnlen(comm, 16));
	lua_setfield(L, -2, "comm");
	SET_INT(L, pages, "pages");
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* The per-CPU counters, summed. */
static void read_counters(struct cache_activity_bpf *skel, uint64_t sums[CA_NCOUNTERS])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v = calloc(ncpus > 0 ? (size_t)ncpus : 1, sizeof(uint64_t));
	int fd = bpf_map__fd(skel->maps.counters);

	for (__u32 i = 0; i < CA_NCOUNTERS; i++) {
		sums[i] = 0;
		if (v && ncpus > 0 && bpf_map_lookup_elem(fd, &i, v) == 0)
			for (int cpu = 0; cpu < ncpus; cpu++)
				sums[i] += v[cpu];
	}
	free(v);
}

/* The counters and table sizes into the table on top. */
static void push_counters(lua_State *L, struct cache_activity_bpf *skel, const uint64_t *sums,
			  long inodes, long ghosts, long fillers)
{
	static const char *const names[CA_NCOUNTERS] = {
		[CA_INODES_CREATED] = "inodes_created", [CA_INODES_LOST] = "inodes_lost",
		[CA_GHOSTS_CREATED] = "ghosts_created", [CA_GHOST_HITS] = "ghost_hits",
		[CA_FILLERS_CREATED] = "fillers_created", [CA_FILLERS_LOST] = "fillers_lost",
	};

	for (__u32 i = 0; i < CA_NCOUNTERS; i++)
		SET_INT(L, sums[i], names[i]);
	SET_INT(L, inodes, "inodes_present");
	SET_INT(L, ghosts, "ghosts_present");
	SET_INT(L, fillers, "fillers_present");
	SET_INT(L, bpf_map__max_entries(skel->maps.inodes), "max_inodes");
	SET_INT(L, bpf_map__max_entries(skel->maps.ghosts), "max_ghosts");
	SET_INT(L, bpf_map__max_entries(skel->maps.fillers), "max_fillers");
}

/* collector:snapshot() -> rows, counters. rows: one per inode, {dev =,
 * major =, minor =, inode =, generation =, added =, removed =, evicted =,
 * refaults =, dirtied =, tasks = {{pid =, comm =, pages =}, ...}}, tasks
 * unsorted. counters: what the programs created and lost (see
 * cache_activity_record.h) and how full the tables are. */
static int cache_activity_snapshot(lua_State *L)
{
	struct collector *c = check_open(L);
	void *ik, *iv, *fk = NULL, *fv = NULL, *gk = NULL, *gv = NULL;
	uint64_t sums[CA_NCOUNTERS];
	long ni, nf, ng;
	int err = 0;

	/* Counters first: an entry created while the maps are read then shows
	 * as present but not created (the reader clamps), never the reverse,
	 * which would look like an eviction. */
	read_counters(c->skel, sums);
	ni = read_map(c->skel->maps.inodes, &ik, &iv);
	nf = ni < 0 ? -1 : read_map(c->skel->maps.fillers, &fk, &fv);
	/* Only the ghosts' number is needed: how many the LRU evicted. */
	ng = nf < 0 ? -1 : read_map(c->skel->maps.ghosts, &gk, &gv);
	if (ng < 0)
		err = errno;
	free(gk);
	free(gv);
	if (err) {
		free(ik), free(iv), free(fk), free(fv);
		return bpfiter_fail(L, err, NAME, "reading the maps");
	}

	lua_createtable(L, (int)ni, 0);		/* rows */
	lua_createtable(L, 0, (int)ni);		/* binary key -> row, for the tasks */
	for (long i = 0, n = 0; i < ni; i++) {
		const struct ca_inode_key *k = (const void *)((char *)ik + i * sizeof(*k));
		const struct ca_inode_stats *s = (const void *)((char *)iv + i * sizeof(*s));

		if (!s->added && !s->removed && !s->dirtied)
			continue;	/* kept by reset() for its ghosts, idle since */
		lua_createtable(L, 0, 11);
		push_key_fields(L, k);
		SET_INT(L, s->added, "added");
		SET_INT(L, s->removed, "removed");
		SET_INT(L, s->evicted, "evicted");
		SET_INT(L, s->refaults, "refaults");
		SET_INT(L, s->dirtied, "dirtied");
		lua_newtable(L);
		if (s->first_tgid && s->first_pages)
			push_task(L, s->first_tgid, s->first_comm, s->first_pages);
		lua_setfield(L, -2, "tasks");
		lua_pushlstring(L, (const char *)k, sizeof(*k));
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
		lua_rawseti(L, -3, ++n);
	}
	for (long i = 0; i < nf; i++) {
		const struct ca_filler_key *k = (const void *)((char *)fk + i * sizeof(*k));
		const struct ca_filler *f = (const void *)((char *)fv + i * sizeof(*f));

		lua_pushlstring(L, (const char *)&k->inode, sizeof(k->inode));
		if (lua_rawget(L, -2) != LUA_TTABLE) {	/* its inode was evicted */
			lua_pop(L, 1);
			continue;
		}
		lua_getfield(L, -1, "tasks");
		push_task(L, k->tgid, f->comm, f->pages);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	free(ik), free(iv), free(fk), free(fv);

	lua_newtable(L);
	push_counters(L, c->skel, sums, ni, ng, nf);
	return 2;
}

/* Deletes every entry of map; entries added meanwhile may stay. */
static int clear_map(struct bpf_map *map)
{
	void *keys, *values;
	long n = read_map(map, &keys, &values);
	__u32 count;
	int err = 0;

	if (n > 0) {
		count = (__u32)n;
		if (bpf_map_delete_batch(bpf_map__fd(map), keys, &count, NULL) && errno != ENOENT)
			err = errno;
	} else if (n < 0) {
		err = errno;
	}
	free(keys);
	free(values);
	return err;
}

/* Per-CPU counter `which` := value (on the first CPU; the others 0). */
static void set_counter(struct cache_activity_bpf *skel, __u32 which, uint64_t *percpu, int ncpus,
			uint64_t value)
{
	memset(percpu, 0, sizeof(uint64_t) * (size_t)ncpus);
	percpu[0] = value;
	bpf_map_update_elem(bpf_map__fd(skel->maps.counters), &which, percpu, BPF_ANY);
}

/* collector:reset(): forget the counts so far; collecting goes on. Inode
 * entries are zeroed in place, not deleted: they keep what the ghosts need
 * (a page evicted before the reset and added after it is still a
 * refault). Counts racing with the reset may be lost. */
static int cache_activity_reset(lua_State *L)
{
	struct collector *c = check_open(L);
	int ncpus = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(c->skel->maps.inodes), err;
	void *keys, *values;
	uint64_t *percpu;
	long n;

	n = read_map(c->skel->maps.inodes, &keys, &values);
	err = n < 0 ? errno : clear_map(c->skel->maps.fillers);
	percpu = err || ncpus <= 0 ? NULL : calloc((size_t)ncpus, sizeof(uint64_t));
	if (!err && !percpu)
		err = ncpus <= 0 ? -ncpus : ENOMEM;
	for (long i = 0; !err && i < n; i++) {
		struct ca_inode_stats *s = (void *)((char *)values + i * sizeof(*s));

		s->added = s->removed = s->evicted = s->refaults = s->dirtied = 0;
		s->first_pages = 0;
		/* Gone meanwhile (LRU eviction): nothing to zero. */
		bpf_map_update_elem(fd, (char *)keys + i * sizeof(struct ca_inode_key), s, BPF_EXIST);
	}
	free(keys);
	free(values);
	if (err)
		return bpfiter_fail(L, err, NAME, "reset");
	/* The entries kept count as created, so evicted = created - present
	 * stays right; the rest start again from 0. */
	set_counter(c->skel, CA_INODES_CREATED, percpu, ncpus, (uint64_t)n);
	set_counter(c->skel, CA_INODES_LOST, percpu, ncpus, 0);
	set_counter(c->skel, CA_FILLERS_CREATED, percpu, ncpus, 0);
	set_counter(c->skel, CA_FILLERS_LOST, percpu, ncpus, 0);
	free(percpu);
	lua_settop(L, 1);
	return 1;
}

/* collector:wait(seconds): sleep while collecting; returns the collector. */
static int cache_activity_wait(lua_State *L)
{
	check_open(L);
	collector_sleep(L, 2);
	lua_settop(L, 1);
	return 1;
}

/* close, __close, __gc: detach the programs, free the maps; twice is fine. */
static int cache_activity_close(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CACHE_ACTIVITY_MT);

	if (c->skel)
		cache_activity_bpf__destroy(c->skel);
	c->skel = NULL;
	return 0;
}

static int cache_activity_tostring(lua_State *L)
{
	struct collector *c = luaL_checkudata(L, 1, CACHE_ACTIVITY_MT);

	lua_pushfstring(L, CACHE_ACTIVITY_MT ": %s", c->skel ? "collecting" : "closed");
	return 1;
}

void cache_activity_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "snapshot", cache_activity_snapshot },
		{ "reset", cache_activity_reset },
		{ "wait", cache_activity_wait },
		{ "close", cache_activity_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__close", cache_activity_close },
		{ "__gc", cache_activity_close },
		{ "__tostring", cache_activity_tostring },
		{ NULL, NULL },
	};

	if (luaL_newmetatable(L, CACHE_ACTIVITY_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, cache_activity_open);
	lua_setfield(L, -2, "cache_activity");
}
