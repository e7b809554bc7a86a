/* map_elems: one record per element of one BPF map (bpf_map_elem
 * iterator), with the key and value as bytes and, when the map has BTF,
 * decoded into Lua values the way bpftool's "formatted" output shows them. */
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bpf_names.h"
#include "btf_value.h"
#include "errors.h"
#include "fds.h"
#include "map_elem_record.h"
#include "sysfs_list.h"
#include "map_elem.skel.h"

_Static_assert(sizeof(struct map_elem_record) % 8 == 0, "records stay 8-byte aligned");

#define MAP_BTF_KEY "bpfiter.map_btfs"	/* registry: map id -> struct map_btf */
#define MAP_BTF_MT "bpfiter.map_btf"
#define BPF_FS_MAGIC 0xcafe4a11

static const struct field map_elem_fields[] = {
	FIELD(map_elem_record, map_id, F_U32, "map_id", "", "id of the map"),
	FIELDS_END,
};

/* ---- per-map BTF, loaded once per Lua state ---- */

struct map_btf {
	struct btf *btf;	/* NULL: the map has no BTF */
	uint32_t key_type, value_type;
};

static int map_btf_gc(lua_State *L)
{
	struct map_btf *mb = luaL_checkudata(L, 1, MAP_BTF_MT);

	btf__free(mb->btf);
	mb->btf = NULL;
	return 0;
}

/* The BTF of map id, from the cache or the kernel. Map ids are not reused
 * (the kernel allocates them cyclically over 2^31), so an entry stays true.
 * A map without BTF gets an entry without; one that is gone none, and its
 * elements stay undecoded. Out of fds even after collecting garbage, it
 * raises: an undecoded element would look like a map without BTF. */
static const struct map_btf *map_btf(lua_State *L, uint32_t map_id)
{
	static const struct map_btf none = { NULL, 0, 0 };
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct map_btf *mb;
	int fd;

	if (lua_getfield(L, LUA_REGISTRYINDEX, MAP_BTF_KEY) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, MAP_BTF_KEY);
	}
	if (lua_rawgeti(L, -1, map_id) == LUA_TUSERDATA) {
		mb = lua_touserdata(L, -1);
		lua_pop(L, 2);
		return mb;
	}
	lua_pop(L, 1);
	RETRY_AFTER_GC(L, fd, bpf_map_get_fd_by_id(map_id));
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		bpfiter_raise(L, errno, "map_elems", "map %u: opening it to read its BTF failed", map_id);
	if (fd < 0) {
		lua_pop(L, 1);
		return &none;
	}
	mb = lua_newuserdatauv(L, sizeof(*mb), 0);
	*mb = (struct map_btf){ NULL, 0, 0 };
	if (luaL_newmetatable(L, MAP_BTF_MT)) {
		lua_pushcfunction(L, map_btf_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.btf_id) {
		RETRY_PTR_AFTER_GC(L, mb->btf, btf__load_from_kernel_by_id(info.btf_id));
		if (!mb->btf && (errno == EMFILE || errno == ENFILE)) {
			int err = errno;

			close(fd);
			bpfiter_raise(L, err, "map_elems", "map %u: reading its BTF failed", map_id);
		}
		mb->key_type = info.btf_key_type_id;
		mb->value_type = info.btf_value_type_id;
	}
	close(fd);
	lua_rawseti(L, -2, map_id);
	lua_pop(L, 1);
	return mb;
}

/* value: bytes, or for per-CPU maps an array of one per possible CPU;
 * decoded the same way when type is nonzero. */
static void push_value(lua_State *L, const struct map_elem_record *r, const unsigned char *p,
		       const struct map_btf *mb, bool decode)
{
	uint32_t slot = (r->value_size + 7) & ~7u;

	if (!r->cpus) {
		if (decode)
			btf_value_push(L, mb->btf, mb->value_type, p, r->value_size);
		else
			lua_pushlstring(L, (const char *)p, r->value_size);
		return;
	}
	lua_createtable(L, (int)r->cpus, 0);
	for (uint32_t cpu = 0; cpu < r->cpus; cpu++) {
		if (decode)
			btf_value_push(L, mb->btf, mb->value_type, p + cpu * slot, r->value_size);
		else
			lua_pushlstring(L, (const char *)p + cpu * slot, r->value_size);
		lua_rawseti(L, -2, (lua_Integer)cpu + 1);
	}
}

static void map_elem_derive(lua_State *L, const void *rec)
{
	const struct map_elem_record *r = rec;
	const unsigned char *key = (const unsigned char *)(r + 1);
	const unsigned char *value = key + r->key_size;
	const struct map_btf *mb = map_btf(L, r->map_id);

	lua_pushlstring(L, (const char *)key, r->key_size);
	lua_setfield(L, -2, "key_bytes");
	push_value(L, r, value, mb, false);
	lua_setfield(L, -2, "value_bytes");
	if (mb->btf && mb->key_type) {
		btf_value_push(L, mb->btf, mb->key_type, key, r->key_size);
		lua_setfield(L, -2, "key");
	}
	if (mb->btf && mb->value_type) {
		push_value(L, r, value, mb, true);
		lua_setfield(L, -2, "value");
	}
}

/* The sizes the program writes, and a tail that holds exactly the key and
 * the value (one per CPU for per-CPU maps) they announce: so the cpu count
 * is at most 65,535 / 8. */
static const char *map_elem_check(const void *rec)
{
	const struct map_elem_record *r = rec;
	uint64_t value_bytes = r->cpus ? (uint64_t)((r->value_size + 7ull) & ~7ull) * r->cpus :
					  r->value_size;

	/* The kernel makes no map with empty keys or values; an empty value
	 * would also let any cpu count pass the length check below. */
	if (!r->key_size || r->key_size > MAP_ELEM_KEY_MAX || !r->value_size ||
	    r->value_size > MAP_ELEM_VALUE_MAX)
		return "key or value size out of range";
	if (r->key_size + value_bytes != r->tail_len)
		return "key and value sizes disagree with the record's length";
	return NULL;
}

/* ---- opening: the map by id or pinned path ---- */

static bool is_map_fd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:bpf-map") == 0;
}

/* The number of possible CPUs: slots in a per-CPU value. */
static bool possible_cpus(lua_State *L, unsigned *cpus)
{
	static const char path[] = "/sys/devices/system/cpu/possible";
	unsigned end;
	int n;

	if (sysfs_list_read(path, cpus, &end) ||
	    (fds_reclaim(L, errno) && sysfs_list_read(path, cpus, &end)))
		return true;
	n = libbpf_num_possible_cpus();	/* cached by libbpf once it has read it */
	if (n <= 0) {
		errno = n < 0 ? -n : ENOENT;
		return false;
	}
	*cpus = (unsigned)n;
	return true;
}

static int map_elem_attach(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char what[300];
	struct statfs fs;
	unsigned cpus = 1;
	uint64_t value_bytes;
	int fd, err;
	bool percpu;

	switch (lua_getfield(L, opts, "map")) {
	case LUA_TNUMBER: {
		lua_Integer id = lua_tointeger(L, -1);

		RETRY_AFTER_GC(L, fd, bpf_map_get_fd_by_id((uint32_t)id));
		err = errno;
		/* the kernel lets only CAP_SYS_ADMIN turn an id into a map */
		snprintf(what, sizeof(what), "map %lld%s", (long long)id, fd < 0 && err == EPERM ?
			 " (a map id needs root or CAP_SYS_ADMIN; a pinned map's path needs "
			 "CAP_BPF and CAP_PERFMON)" : "");
		errno = err;
		break;
	}
	case LUA_TSTRING:
		snprintf(what, sizeof(what), "%s", lua_tostring(L, -1));
		if (statfs(what, &fs) == 0 && (unsigned long)fs.f_type != BPF_FS_MAGIC) {
			lua_pop(L, 1);
			return bpfiter_fail(L, EINVAL, t->name, "%s: not a pinned BPF map (not on a bpffs mount)",
					    what);
		}
		RETRY_AFTER_GC(L, fd, bpf_obj_get(what));
		if (fd >= 0 && !is_map_fd(fd)) {
			close(fd);
			lua_pop(L, 1);
			return bpfiter_fail(L, EINVAL, t->name, "%s: not a pinned BPF map", what);
		}
		break;
	default:	/* required: options_check saw it */
		return bpfiter_fail(L, EINVAL, t->name, "no map");
	}
	lua_pop(L, 1);
	if (fd < 0 || (fd = attach_fd(L, a, fd)) < 0)
		return bpfiter_fail(L, errno, t->name, "%s", what);
	a->info.map.map_fd = (uint32_t)fd;
	a->has_info = true;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = errno;
		close(fd);
		a->nfds = 0;
		return bpfiter_fail(L, err, t->name, "%s", what);
	}

	/* The map kinds the kernel's bpf_map_elem iterator accepts. */
	percpu = info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		 info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	if (!percpu && info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_ARRAY &&
	    info.type != BPF_MAP_TYPE_LRU_HASH) {
		close(fd);
		a->nfds = 0;
		push_map_type_name(L, info.type);
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " is a %s map; the kernel iterates only hash, lru_hash and array maps"
			 " and their per-CPU kinds", lua_tostring(L, -1));
		lua_pop(L, 1);
		return bpfiter_fail(L, ENOTSUP, t->name, "%s", what);
	}
	if (percpu && !possible_cpus(L, &cpus)) {
		err = errno;
		close(fd);
		a->nfds = 0;
		return bpfiter_fail(L, err, t->name, "%s: reading the number of possible CPUs failed", what);
	}
	value_bytes = percpu ? (uint64_t)((info.value_size + 7) & ~7u) * cpus : info.value_size;
	if (info.key_size + value_bytes > MAP_ELEM_FIT) {
		close(fd);
		a->nfds = 0;
		return bpfiter_fail(L, E2BIG, t->name, "%s: an element takes %llu bytes, more than the"
				    " kernel passes for one object (~32 KiB)", what,
				    (unsigned long long)(info.key_size + value_bytes));
	}
	return 0;
}

/* The program needs the number of possible CPUs (slots of a per-CPU
 * value), and one scratch slot per CPU id. */
static int map_elem_prepare(struct bpf_object *obj)
{
	struct bpf_map *slots = bpf_object__find_map_by_name(obj, "slots");
	struct map_elem_bpf__rodata ro;
	unsigned count, end;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	if (!slots || !sysfs_list_read("/sys/devices/system/cpu/possible", &count, &end))
		return ENOENT;
	ro.nr_cpus = count;
	err = rodata_set(obj, &ro, sizeof(ro));
	return err ? err : -bpf_map__set_max_entries(slots, end);
}

static const struct option map_elem_options[] = {
	{ .name = "map", .type = OPT_INTEGER_OR_STRING, .scope = OPT_KERNEL,
	  .min = 1, .max = UINT32_MAX, .required = true, .arg = "ID|PATH",
	  .expect = "a positive map id", .help = "a map id or a pinned path" },
	OPTIONS_END,
};

static const struct derived_field map_elem_derived[] = {
	DERIVED("key_bytes", "string", "", "the raw key"),
	DERIVED("value_bytes", "string|string[]", "", "the raw value; per-CPU maps: one string per possible CPU"),
	DERIVED("key", "any", "", "the key decoded with the map's BTF; nil without BTF"),
	DERIVED("value", "any", "", "the value decoded with the map's BTF; nil without BTF; per-CPU: an array"),
	DERIVED_END,
};

const struct target target_map_elems = {
	.name = "map_elems", .help = "one record per element of a BPF map, decoded with its BTF",
	.program = "dump_map_elem",
	.elf_bytes = map_elem_bpf__elf_bytes,
	.record_size = sizeof(struct map_elem_record),
	.fields = map_elem_fields, .options = map_elem_options,
	.prepare = map_elem_prepare,
	.attach = map_elem_attach,
	.check = map_elem_check,
	.derive = map_elem_derive,
	.derived = map_elem_derived,
};
