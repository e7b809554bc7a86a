/* kmem_caches: one record per slab cache (kmem_cache iterator), with the
 * counts /proc/slabinfo shows. */
#include "target.h"

#include <errno.h>
#include <string.h>
#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "kmem_cache_record.h"
#include "sysfs_list.h"
#include "kmem_cache.skel.h"

_Static_assert(sizeof(struct kmem_cache_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field kmem_cache_fields[] = {
	FIELD(kmem_cache_record, tail_len, F_TAIL, "name", "", "cache name"),
	FIELD(kmem_cache_record, object_size, F_U32, "object_size", "bytes", "bytes requested per object"),
	FIELD(kmem_cache_record, slot_size, F_U32, "slot_size", "bytes", "bytes per object with metadata (slabinfo objsize)"),
	FIELD(kmem_cache_record, objects_per_slab, F_U32, "objects_per_slab", "count", "objects per slab"),
	FIELD(kmem_cache_record, align, F_U32, "align", "bytes", "object alignment"),
	FIELD(kmem_cache_record, flags, F_U32, "flags", "", "SLAB_* flags"),
	FIELD(kmem_cache_record, partial_slabs, F_U64, "partial_slabs", "count", "slabs on the partial lists"),
	FIELD(kmem_cache_record, free_estimated, F_BOOL, "free_estimated", "", "a partial list was sampled, as the kernel does past 10,000 slabs"),
	FIELDS_END,
};

static void kmem_cache_derive(lua_State *L, const void *rec)
{
	const struct kmem_cache_record *r = rec;

	lua_pushinteger(L, (lua_Integer)1 << (r->order & 31));
	lua_setfield(L, -2, "pages_per_slab");
	if (!r->counted)
		return;		/* no per-node totals without CONFIG_SLUB_DEBUG */
	lua_pushinteger(L, (lua_Integer)r->total_objects);
	lua_setfield(L, -2, "total_objects");
	/* As get_slabinfo(): objects on CPU slabs count as active. */
	lua_pushinteger(L, (lua_Integer)(r->total_objects > r->free_objects ?
					 r->total_objects - r->free_objects : 0));
	lua_setfield(L, -2, "active_objects");
	lua_pushinteger(L, (lua_Integer)r->slabs);
	lua_setfield(L, -2, "slabs");
}

static int kmem_cache_prepare(struct bpf_object *obj)
{
	struct kmem_cache_bpf__rodata ro;
	unsigned count, end;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	/* kmem_cache.node has nr_node_ids entries: the highest possible
	 * node + 1. A kernel without NUMA has no such file, and one node. */
	if (!sysfs_list_read("/sys/devices/system/node/possible", &count, &end))
		end = 1;
	ro.nr_node_ids = end;
	return rodata_set(obj, &ro, sizeof(ro));
}

static const struct derived_field kmem_cache_derived[] = {
	DERIVED("pages_per_slab", "integer", "pages", "pages per slab"),
	DERIVED("total_objects", "integer", "count", "objects allocated (slabinfo num_objs)"),
	DERIVED("active_objects", "integer", "count", "objects in use (slabinfo active_objs)"),
	DERIVED("slabs", "integer", "count", "slabs (slabinfo num_slabs)"),
	DERIVED_END,
};

const struct target target_kmem_caches = {
	.name = "kmem_caches", .help = "one record per slab cache, as /proc/slabinfo",
	.program = "dump_kmem_cache",
	.elf_bytes = kmem_cache_bpf__elf_bytes,
	.min_kernel = KERNEL_VERSION(6, 13), .min_kernel_needs = "the kmem_cache iterator",
	.record_size = sizeof(struct kmem_cache_record),
	.fields = kmem_cache_fields,
	.prepare = kmem_cache_prepare,
	.derive = kmem_cache_derive,
	.derived = kmem_cache_derived,
};
