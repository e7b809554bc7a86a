#ifndef BPFITER_KMEM_CACHE_RECORD_H
#define BPFITER_KMEM_CACHE_RECORD_H
#include "record_common.h"

/* One per slab cache, the lines of /proc/slabinfo; written by
 * kmem_cache.bpf.c. Tail: the cache's name. */
struct kmem_cache_record {
	BPFITER_RECORD_HEAD;
	__u32 object_size;	/* bytes the user asked for */
	__u64 total_objects;	/* objects in all slabs (slabinfo <num_objs>) */
	__u64 free_objects;	/* free objects in the nodes' partial slabs */
	__u64 slabs;		/* slabinfo <num_slabs> */
	__u64 partial_slabs;	/* slabs on the nodes' partial lists */
	__u32 slot_size;	/* bytes per object with metadata (slabinfo <objsize>) */
	__u32 objects_per_slab;
	__u32 order;		/* a slab is 2^order pages */
	__u32 align;
	__u32 flags;		/* SLAB_* */
	__u32 nodes;		/* NUMA nodes counted */
	__u8 counted;		/* the kernel keeps per-node counters (SLUB_DEBUG) */
	__u8 free_estimated;	/* a partial list was too long: sampled, as the kernel does */
	__u8 pad[6];
};

#endif
