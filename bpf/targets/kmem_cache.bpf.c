// SPDX-License-Identifier: GPL-2.0
/* kmem_caches: one record per slab cache, from the kmem_cache iterator,
 * with the counts /proc/slabinfo computes (get_slabinfo() in mm/slub.c). */
#include "iter_common.bpf.h"
#include "kmem_cache_record.h"

BPFITER_SCRATCH(kmem_cache_record)
BPFITER_TARGET("kmem_caches", kmem_cache_record);

/* nr_node_ids: how many entries of kmem_cache.node exist (the array is
 * allocated that long). A kernel global we cannot read, so the reader
 * sets it from /sys/devices/system/node/possible before loading. */
const volatile __u32 nr_node_ids = 1;

#define MAX_NUMNODES		1024
#define MAX_PARTIAL_TO_SCAN	10000	/* as mm/slub.c */
#define OO_SHIFT		16
#define OO_MASK			((1u << OO_SHIFT) - 1)

struct partial_walk {
	struct list_head *head;
	struct list_head *pos;
	__u64 free;
	__u32 scanned;
	__u32 limit;
	bool reverse;
};

/* One slab of a partial list: count its free objects, step on. */
static long partial_step(__u64 i, void *data)
{
	struct partial_walk *w = data;
	struct list_head *pos = w->pos;
	struct slab *slab;
	__u32 inuse, objects;

	if (pos == w->head || !pos)
		return 1;
	slab = (void *)pos - bpf_core_field_offset(struct slab, slab_list);
	inuse = BPF_CORE_READ_BITFIELD_PROBED(slab, inuse);
	objects = BPF_CORE_READ_BITFIELD_PROBED(slab, objects);
	if (objects > inuse)
		w->free += objects - inuse;
	w->pos = w->reverse ? BPF_CORE_READ(pos, prev) : BPF_CORE_READ(pos, next);
	return ++w->scanned >= w->limit;
}

/* count_partial_free_approx(): every partial slab up to 10,000; beyond,
 * 5,000 from each end, scaled to the list's length. The kernel holds the
 * node's list_lock; we cannot, so a list changing under us gives an
 * approximate count (the walk stays bounded either way). */
static __always_inline __u64 partial_free(struct kmem_cache_node *n, __u64 nr_partial,
					  __u64 node_objects, struct kmem_cache_record *r)
{
	struct partial_walk w = { .head = &n->partial };

	w.pos = BPF_CORE_READ(n, partial.next);
	if (nr_partial <= MAX_PARTIAL_TO_SCAN) {
		w.limit = nr_partial;
		bpf_loop(MAX_PARTIAL_TO_SCAN, partial_step, &w, 0);
		return w.free;
	}
	w.limit = MAX_PARTIAL_TO_SCAN / 2;
	bpf_loop(MAX_PARTIAL_TO_SCAN, partial_step, &w, 0);
	w.pos = BPF_CORE_READ(n, partial.prev);
	w.reverse = true;
	w.limit = MAX_PARTIAL_TO_SCAN;
	bpf_loop(MAX_PARTIAL_TO_SCAN, partial_step, &w, 0);
	r->free_estimated = 1;
	if (!w.scanned)
		return 0;
	w.free = w.free * nr_partial / w.scanned;
	return w.free < node_objects ? w.free : node_objects;
}

/* struct bpf_iter__kmem_cache as of 6.13, spelled out: older kernels' BTF
 * has no such type; CO-RE finds the kernel's. */
struct bpf_iter__kmem_cache___local {
	struct bpf_iter_meta *meta;
	struct kmem_cache *s;
} __attribute__((preserve_access_index));

SEC("iter/kmem_cache")
int dump_kmem_cache(struct bpf_iter__kmem_cache___local *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct kmem_cache *cache = ctx->s;
	struct scratch_slot *s;
	struct kmem_cache_record *r;
	__u32 oo;
	long len;

	BPFITER_FRAME(ctx->meta, cache);
	if (!cache)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	r->object_size = cache->object_size;
	r->slot_size = cache->size;
	oo = cache->oo.x;
	r->objects_per_slab = oo & OO_MASK;
	r->order = oo >> OO_SHIFT;
	r->align = cache->align;
	r->flags = cache->flags;
	len = bpf_probe_read_kernel_str(s->tail, 256, cache->name);
	r->tail_len = len > 1 ? len - 1 : 0;

	/* The per-node totals exist with CONFIG_SLUB_DEBUG only. */
	r->counted = bpf_core_field_exists(struct kmem_cache_node, total_objects);
	for (__u32 i = 0; i < MAX_NUMNODES && i < nr_node_ids; i++) {
		struct kmem_cache_node *n = NULL;
		__u64 objects = 0, nr_partial;

		bpf_probe_read_kernel(&n, sizeof(n), &cache->node[i]);
		if (!n)
			continue;
		r->nodes++;
		nr_partial = BPF_CORE_READ(n, nr_partial);
		r->partial_slabs += nr_partial;
		if (r->counted) {
			objects = BPF_CORE_READ(n, total_objects.counter);
			r->total_objects += objects;
			r->slabs += BPF_CORE_READ(n, nr_slabs.counter);
		}
		r->free_objects += partial_free(n, nr_partial, objects, r);
	}
	BPFITER_EMIT(seq, s);
	return 0;
}
