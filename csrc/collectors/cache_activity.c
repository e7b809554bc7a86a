/* core.cache_activity(): a collector of page-cache activity per inode. Not
 * an iterator target: three tp_btf programs (cache_activity.bpf.c) count
 * pages added, removed, refaulted and dirtied per inode, and the processes
 * that added them, in LRU hash maps while the collector is open;
 * snapshot() reads them. Lua (lua/bpfiter/cache_activity.lua) ranks the
 * processes, computes what was dropped and joins rows with page-cache
 * walks. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "devnum.h"
#include "errors.h"
#include "cache_activity_record.h"
#include "cache_activity.skel.h"

#define NAME "cache_activity"

/* Table sizes come from Lua already checked; the bound here only keeps a
 * direct caller of the core from asking for absurd maps. */
static __u32 check_size(lua_State *L, int arg, __u32 dflt)
{
	lua_Integer n = luaL_optinteger(L, arg, dflt);

	if (n < 1 || n > (1 << 24))
		bpfiter_argerror(L, arg, "table size must be in 1..16777216, got %lld", (long long)n);
	return (__u32)n;
}

/* core.cache_activity([max_inodes, max_ghosts, max_fillers]). */
static int open_skeleton(lua_State *L, void **skel, struct bpf_object_skeleton **obj)
{
	__u32 inodes = check_size(L, 1, CA_MAX_INODES);
	__u32 ghosts = check_size(L, 2, CA_MAX_GHOSTS);
	__u32 fillers = check_size(L, 3, CA_MAX_FILLERS);
	struct cache_activity_bpf *s = cache_activity_bpf__open();
	int err;

	if (!s)
		return errno;
	err = -bpf_map__set_max_entries(s->maps.inodes, inodes);
	if (!err)
		err = -bpf_map__set_max_entries(s->maps.ghosts, ghosts);
	if (!err)
		err = -bpf_map__set_max_entries(s->maps.fillers, fillers);
	if (err) {
		cache_activity_bpf__destroy(s);
		return err;
	}
	*skel = s;
	*obj = s->skeleton;
	return 0;
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
	lua_pushinteger(L, (lua_Integer)kdev_to_user(k->dev));
	lua_setfield(L, -2, "dev");
	lua_pushinteger(L, kdev_major(k->dev));
	lua_setfield(L, -2, "major");
	lua_pushinteger(L, kdev_minor(k->dev));
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
static int snapshot(lua_State *L, void *skel)
{
	struct cache_activity_bpf *ca = skel;
	void *ik, *iv, *fk = NULL, *fv = NULL, *gk = NULL, *gv = NULL;
	uint64_t sums[CA_NCOUNTERS];
	long ni, nf, ng;
	int err = 0;

	/* Counters first: an entry created while the maps are read then shows
	 * as present but not created (the reader clamps), never the reverse,
	 * which would look like an eviction. */
	collector_read_counters(ca->maps.counters, CA_NCOUNTERS, sums);
	ni = read_map(ca->maps.inodes, &ik, &iv);
	nf = ni < 0 ? -1 : read_map(ca->maps.fillers, &fk, &fv);
	/* Only the ghosts' number is needed: how many the LRU evicted. */
	ng = nf < 0 ? -1 : read_map(ca->maps.ghosts, &gk, &gv);
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
	push_counters(L, ca, sums, ni, ng, nf);
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

/* collector:reset(): forget the counts so far; collecting goes on. Inode
 * entries are zeroed in place, not deleted: they keep what the ghosts need
 * (a page evicted before the reset and added after it is still a
 * refault). Counts racing with the reset may be lost. */
static int reset(void *skel)
{
	struct cache_activity_bpf *ca = skel;
	int fd = bpf_map__fd(ca->maps.inodes), err;
	void *keys, *values;
	long n;

	n = read_map(ca->maps.inodes, &keys, &values);
	err = n < 0 ? errno : clear_map(ca->maps.fillers);
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
		return err;
	/* The entries kept count as created, so evicted = created - present
	 * stays right; the rest start again from 0. */
	err = collector_set_counter(ca->maps.counters, CA_INODES_CREATED, (uint64_t)n);
	if (!err)
		err = collector_set_counter(ca->maps.counters, CA_INODES_LOST, 0);
	if (!err)
		err = collector_set_counter(ca->maps.counters, CA_FILLERS_CREATED, 0);
	if (!err)
		err = collector_set_counter(ca->maps.counters, CA_FILLERS_LOST, 0);
	return err;
}

static void stop(void *skel)
{
	cache_activity_bpf__destroy(skel);
}

const struct collector_ops cache_activity_collector = {
	.name = NAME,
	.programs = "page-cache tracepoint programs",
	.nargs = 3,
	.open = open_skeleton,
	.snapshot = snapshot,
	.reset = reset,
	.stop = stop,
};
