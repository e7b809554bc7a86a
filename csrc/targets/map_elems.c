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
#include "errors.h"
#include "fds.h"
#include "map_elem_record.h"
#include "sysfs_list.h"
#include "map_elem.skel.h"

_Static_assert(sizeof(struct map_elem_record) % 8 == 0, "records stay 8-byte aligned");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bitfield decoding below assumes a little-endian machine"
#endif

#define MAP_BTF_KEY "bpfiter.map_btfs"	/* registry: map id -> struct map_btf */
#define MAP_BTF_MT "bpfiter.map_btf"
#define MAX_DEPTH 32
#define BPF_FS_MAGIC 0xcafe4a11

static const struct field map_elem_fields[] = {
	FIELD(map_elem_record, map_id, F_U32, "map_id", "", "id of the map"),
	FIELDS_END,
};

/* ---- BTF values -> Lua values ---- */

static void push_btf_value(lua_State *L, const struct btf *btf, uint32_t id,
			   const unsigned char *p, size_t avail, int depth);

/* An integer of nbits at bit offset `bit` from p (little-endian). */
static unsigned __int128 read_bits(const unsigned char *p, size_t avail, uint32_t bit,
				   uint32_t nbits)
{
	unsigned __int128 v = 0;
	size_t first = bit / 8, last = (bit + nbits + 7) / 8;

	for (size_t i = last; i > first; i--)
		v = v << 8 | (i - 1 < avail ? p[i - 1] : 0);
	v >>= bit % 8;
	if (nbits < 128)
		v &= ((unsigned __int128)1 << nbits) - 1;
	return v;
}

static void push_int(lua_State *L, unsigned __int128 v, uint32_t nbits, bool is_signed, bool is_bool)
{
	if (is_bool) {
		lua_pushboolean(L, v != 0);
	} else if (nbits > 64) {
		/* as bpftool prints 128-bit integers */
		char hex[40];
		uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;

		if (hi)
			snprintf(hex, sizeof(hex), "0x%llx%016llx", (unsigned long long)hi,
				 (unsigned long long)lo);
		else
			snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)lo);
		lua_pushstring(L, hex);
	} else if (is_signed && nbits > 0 && nbits < 64 && (v >> (nbits - 1)) & 1) {
		lua_pushinteger(L, (lua_Integer)(uint64_t)(v | ~(((unsigned __int128)1 << nbits) - 1)));
	} else {
		lua_pushinteger(L, (lua_Integer)(uint64_t)v);
	}
}

static const struct btf_type *skip_mods(const struct btf *btf, uint32_t *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);

	for (int i = 0; t && i < MAX_DEPTH && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

/* bpftool shows a char array as a string when it holds printable
 * characters up to a NUL (is_str_array() in its btf_dumper.c). */
static bool is_str_array(const struct btf *btf, const struct btf_array *arr,
			 const unsigned char *p, size_t avail)
{
	const struct btf_type *elem = btf__type_by_id(btf, arr->type);

	if (!arr->nelems || arr->nelems > avail)
		return false;
	while (elem && btf_is_mod(elem))	/* a typedef to char does not count */
		elem = btf__type_by_id(btf, elem->type);
	if (!elem || !btf_is_int(elem) || elem->size != 1)
		return false;
	if (btf_int_encoding(elem) != BTF_INT_CHAR &&
	    strcmp(btf__name_by_offset(btf, elem->name_off), "char") != 0)
		return false;
	for (uint32_t i = 0; i < arr->nelems; i++) {
		if (!p[i])
			return true;
		if (p[i] <= 0x1f || p[i] >= 0x7f)
			return false;
	}
	return false;
}

static void push_enum(lua_State *L, const struct btf *btf, const struct btf_type *t,
		      const unsigned char *p)
{
	bool is_signed = btf_kflag(t);
	uint32_t nbits = t->size * 8;
	unsigned __int128 raw = read_bits(p, t->size, 0, nbits);
	int64_t v = (int64_t)(uint64_t)raw;

	if (is_signed && nbits > 0 && nbits < 64 && (raw >> (nbits - 1)) & 1)
		v = (int64_t)(uint64_t)(raw | ~(((unsigned __int128)1 << nbits) - 1));
	for (int i = 0; i < btf_vlen(t); i++) {
		int64_t ev;
		uint32_t name_off;

		if (btf_is_enum(t)) {
			ev = is_signed ? btf_enum(t)[i].val : (int64_t)(uint32_t)btf_enum(t)[i].val;
			name_off = btf_enum(t)[i].name_off;
		} else {
			ev = (int64_t)btf_enum64_value(btf_enum64(t) + i);
			name_off = btf_enum64(t)[i].name_off;
		}
		if (ev == v) {
			lua_pushstring(L, btf__name_by_offset(btf, name_off));
			return;
		}
	}
	lua_pushinteger(L, v);
}

/* Members of a struct or union into the table on top; anonymous struct and
 * union members are flattened into it, as C reaches them. */
static void fill_members(lua_State *L, const struct btf *btf, const struct btf_type *t,
			 const unsigned char *p, size_t avail, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		uint32_t bit = btf_member_bit_offset(t, i);
		uint32_t nbits = btf_member_bitfield_size(t, i);
		uint32_t mid = m->type;
		const struct btf_type *mt = skip_mods(btf, &mid);

		if (bit / 8 >= avail || !mt)
			continue;
		if (!name || !*name) {
			if (btf_is_composite(mt) && depth < MAX_DEPTH)
				fill_members(L, btf, mt, p + bit / 8, avail - bit / 8, depth + 1);
			continue;
		}
		if (nbits) {
			bool is_signed = btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED);

			push_int(L, read_bits(p, avail, bit, nbits), nbits, is_signed,
				 btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_BOOL));
		} else {
			push_btf_value(L, btf, m->type, p + bit / 8, avail - bit / 8, depth + 1);
		}
		lua_setfield(L, -2, name);
	}
}

/* Pushes the value of type id at p (avail bytes there), or nil. */
static void push_btf_value(lua_State *L, const struct btf *btf, uint32_t id,
			   const unsigned char *p, size_t avail, int depth)
{
	const struct btf_type *t = skip_mods(btf, &id);
	int64_t size = btf__resolve_size(btf, id);

	if (!t || depth > MAX_DEPTH || (size > 0 && (size_t)size > avail) ||
	    (size <= 0 && !btf_is_array(t) && !btf_is_composite(t) && !btf_is_datasec(t))) {
		lua_pushnil(L);
		return;
	}
	luaL_checkstack(L, 4, "decoding a map element");
	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		uint8_t enc = btf_int_encoding(t);

		push_int(L, read_bits(p, avail, btf_int_offset(t), btf_int_bits(t)), btf_int_bits(t),
			 enc & BTF_INT_SIGNED, enc & BTF_INT_BOOL);
		break;
	}
	case BTF_KIND_PTR:
		push_int(L, read_bits(p, avail, 0, 64), 64, false, false);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		push_enum(L, btf, t, p);
		break;
	case BTF_KIND_FLOAT:
		if (t->size == 4) {
			float f;
			memcpy(&f, p, 4);
			lua_pushnumber(L, f);
		} else if (t->size == 8) {
			double d;
			memcpy(&d, p, 8);
			lua_pushnumber(L, d);
		} else {
			lua_pushnil(L);
		}
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *arr = btf_array(t);
		int64_t esize = btf__resolve_size(btf, arr->type);

		if (is_str_array(btf, arr, p, avail)) {
			lua_pushstring(L, (const char *)p);
			break;
		}
		lua_createtable(L, (int)arr->nelems, 0);
		for (uint32_t i = 0; esize > 0 && i < arr->nelems &&
		     (i + 1) * (uint64_t)esize <= avail; i++) {
			push_btf_value(L, btf, arr->type, p + i * esize, avail - i * esize, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		lua_createtable(L, 0, btf_vlen(t));
		fill_members(L, btf, t, p, avail, depth);
		break;
	case BTF_KIND_DATASEC: {
		const struct btf_var_secinfo *v = btf_var_secinfos(t);

		lua_createtable(L, 0, btf_vlen(t));
		for (int i = 0; i < btf_vlen(t); i++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);

			if (!var || !btf_is_var(var) || v->offset >= avail)
				continue;
			push_btf_value(L, btf, var->type, p + v->offset, avail - v->offset, depth + 1);
			lua_setfield(L, -2, btf__name_by_offset(btf, var->name_off) ?: "");
		}
		break;
	}
	case BTF_KIND_VAR:
		push_btf_value(L, btf, t->type, p, avail, depth + 1);
		break;
	default:
		lua_pushnil(L);
	}
}

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
			push_btf_value(L, mb->btf, mb->value_type, p, r->value_size, 0);
		else
			lua_pushlstring(L, (const char *)p, r->value_size);
		return;
	}
	lua_createtable(L, (int)r->cpus, 0);
	for (uint32_t cpu = 0; cpu < r->cpus; cpu++) {
		if (decode)
			push_btf_value(L, mb->btf, mb->value_type, p + cpu * slot, r->value_size, 0);
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
		push_btf_value(L, mb->btf, mb->key_type, key, r->key_size, 0);
		lua_setfield(L, -2, "key");
	}
	if (mb->btf && mb->value_type) {
		push_value(L, r, value, mb, true);
		lua_setfield(L, -2, "value");
	}
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
	.derive = map_elem_derive,
	.derived = map_elem_derived,
};
