#ifndef BPFITER_CACHE_ACTIVITY_RECORD_H
#define BPFITER_CACHE_ACTIVITY_RECORD_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Page-cache activity per inode, kept by cache_activity.bpf.c in BPF maps
 * and read by csrc/collectors/cache_activity.c. Not an iterator record. */

/* Default sizes of the three LRU tables; the collector's options can change
 * them before the programs load. */
#define CA_MAX_INODES 16384	/* inodes with activity */
#define CA_MAX_GHOSTS 131072	/* folios evicted by reclaim, remembered for refaults */
#define CA_MAX_FILLERS 32768	/* (inode, process) pairs that added pages */

/* An inode's identity. i_generation tells a reused inode number apart
 * (ext4, xfs, btrfs set it per allocation); dev is the kernel encoding,
 * major << 20 | minor. */
struct ca_inode_key {
	__u32 dev;
	__u32 generation;
	__u64 ino;
};

/* Pages (not folios): a large folio counts its folio_nr_pages(). */
struct ca_inode_stats {
	__u64 added;		/* added to the page cache */
	__u64 removed;		/* removed from it, for any reason */
	__u64 evicted;		/* of those, removed by reclaim (a shadow entry was left) */
	__u64 refaults;		/* added where reclaim had removed a folio (see ghosts) */
	__u64 dirtied;		/* marked dirty (writes, mmap stores) */
	/* Not counts: kept by reset(). Ghosts made for this inode and not yet
	 * consumed; while 0, adds skip the ghost table (most inodes never
	 * see reclaim). An LRU-evicted ghost leaves it too high: harmless. */
	__u64 ghosts;
	/* The process whose add created the entry, counted here rather than
	 * in `fillers`: usually the only one, and one map operation less. */
	__u64 first_pages;
	__u32 first_tgid;	/* 0: the entry was created by a removal */
	__u32 pad;
	char first_comm[16];
};

/* A folio reclaim removed: remembered so that adding a folio at the same
 * index again counts as a refault, as the kernel's shadow entry does. */
struct ca_ghost_key {
	struct ca_inode_key inode;
	__u64 index;		/* the folio's first page index */
};

/* Another process that added pages to an inode. */
struct ca_filler_key {
	struct ca_inode_key inode;
	__u32 tgid;
	__u32 pad;
};

struct ca_filler {
	__u64 pages;
	char comm[16];		/* the thread-group leader's, when first seen */
};

/* Indexes of the per-CPU `counters` array. The LRU tables evict silently;
 * the reader compares what was created with what is still there. */
#define CA_INODES_CREATED 0	/* inode entries the programs created */
#define CA_INODES_LOST 1	/* events not counted: no inode entry could be made */
#define CA_GHOSTS_CREATED 2
#define CA_GHOST_HITS 3		/* ghosts consumed by a refault */
#define CA_FILLERS_CREATED 4
#define CA_FILLERS_LOST 5
#define CA_NCOUNTERS 6

#endif
