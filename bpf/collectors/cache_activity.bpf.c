// SPDX-License-Identifier: GPL-2.0
/* Page-cache activity per inode: pages added, removed (and of those,
 * evicted by reclaim), refaulted and dirtied, and which processes added
 * them. The kernel's inode local storage would be the natural home, but
 * only LSM programs may use it and they cannot load here, so the state
 * lives in LRU hash maps keyed by the inode's identity, fed by tp_btf
 * programs. Every program does a fixed handful of map operations: no
 * loops. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cache_activity_record.h"
#include "folio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_MEMALLOC 0x00000800	/* include/linux/sched.h; stable since 2.6 */

/* LRU tables: when one is full the kernel evicts its least recently used
 * entries, so a long-running collector keeps the busy inodes. The reader
 * works out how many were evicted from the `counters`. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CA_MAX_INODES);
	__type(key, struct ca_inode_key);
	__type(value, struct ca_inode_stats);
} inodes SEC(".maps");

/* The kernel's shadow entries (what makes an add a refault) are not
 * visible to tracepoints: the add tracepoint fires after the shadow was
 * replaced, the delete tracepoint before it is stored. This table stands
 * in for them: (inode, index) -> pages, for folios reclaim removed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CA_MAX_GHOSTS);
	__type(key, struct ca_ghost_key);
	__type(value, __u64);
} ghosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CA_MAX_FILLERS);
	__type(key, struct ca_filler_key);
	__type(value, struct ca_filler);
} fillers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CA_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static const struct ca_inode_stats empty_stats;

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);

	if (n)
		(*n)++;
}

/* The tracepoints fire for page-cache folios only, so mapping is an
 * address_space (never an anon_vma with its low bit set); false if it has
 * no inode. */
static __always_inline bool inode_key(struct address_space *mapping, struct ca_inode_key *key)
{
	struct inode *inode;

	if (!mapping)
		return false;
	inode = mapping->host;
	if (!inode)
		return false;
	key->dev = inode->i_sb->s_dev;
	key->generation = inode->i_generation;
	key->ino = inode->i_ino;
	return true;
}

/* folio_nr_pages(): PG_head marks a large folio, whose size sits in the
 * second page. The bit number comes from this kernel's enum. */
static __always_inline __u64 nr_pages(struct folio *folio)
{
	unsigned long flags = folio_flags_word(folio);

	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	return folio_large_pages(folio);
}

/* The inode's entry, created if missing from `init` (an adder's, or
 * empty_stats). */
static __always_inline struct ca_inode_stats *stats_of(struct ca_inode_key *key,
						       const struct ca_inode_stats *init)
{
	struct ca_inode_stats *s = bpf_map_lookup_elem(&inodes, key);

	if (s)
		return s;
	if (bpf_map_update_elem(&inodes, key, init, BPF_NOEXIST) == 0)
		count(CA_INODES_CREATED);
	s = bpf_map_lookup_elem(&inodes, key);	/* or another CPU's, made meanwhile */
	if (!s)
		count(CA_INODES_LOST);
	return s;
}

/* Another process than the entry's first adder: the `fillers` table. */
static __always_inline void add_filler(struct ca_inode_key *key, struct task_struct *task, __u64 nr)
{
	struct ca_filler_key fk = { .inode = *key, .tgid = task->tgid };
	struct ca_filler *f = bpf_map_lookup_elem(&fillers, &fk);

	if (!f) {
		struct ca_filler init = {};

		bpf_probe_read_kernel(init.comm, sizeof(init.comm), task->group_leader->comm);
		if (bpf_map_update_elem(&fillers, &fk, &init, BPF_NOEXIST) == 0)
			count(CA_FILLERS_CREATED);
		f = bpf_map_lookup_elem(&fillers, &fk);
		if (!f) {
			count(CA_FILLERS_LOST);
			return;
		}
	}
	__sync_fetch_and_add(&f->pages, nr);
}

/* The process (not thread) that made the kernel add the pages is the
 * current one: reads and readahead add them in the reader's context. */
SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cache_activity_add, struct folio *folio)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ca_ghost_key gk = {};
	struct ca_inode_stats *s;
	__u64 nr;

	if (!inode_key(folio->mapping, &gk.inode))
		return 0;
	nr = nr_pages(folio);
	s = bpf_map_lookup_elem(&inodes, &gk.inode);
	if (!s) {
		struct ca_inode_stats init = { .first_tgid = task->tgid };

		bpf_probe_read_kernel(init.first_comm, sizeof(init.first_comm),
				      task->group_leader->comm);
		s = stats_of(&gk.inode, &init);
		if (!s)
			return 0;
	}
	__sync_fetch_and_add(&s->added, nr);
	if (s->first_tgid == task->tgid)
		__sync_fetch_and_add(&s->first_pages, nr);
	else
		add_filler(&gk.inode, task, nr);
	if (!s->ghosts)
		return 0;
	gk.index = folio->index;
	if (bpf_map_delete_elem(&ghosts, &gk) == 0) {
		__sync_fetch_and_add(&s->refaults, nr);
		__sync_fetch_and_sub(&s->ghosts, 1);
		count(CA_GHOST_HITS);
	}
	return 0;
}

/* Reclaim removes a folio in __remove_mapping(), which froze its refcount
 * to 0 and, for a file-LRU folio of a mapping not being torn down, leaves
 * a shadow entry. Truncation and invalidation hold a reference; fadvise
 * and invalidate_mapping_pages() freeze it too but do not run with
 * PF_MEMALLOC, which every reclaimer (kswapd, direct and memcg reclaim)
 * sets. Accepted: the inode shrinker invalidating an unused inode's pages
 * inside reclaim passes the test without leaving shadows; its ghosts can
 * count a later re-read as a refault. */
static __always_inline bool evicted_by_reclaim(struct folio *folio)
{
	struct task_struct *task = bpf_get_current_task_btf();
	unsigned long flags = folio_flags_word(folio);

	if (!(task->flags & PF_MEMALLOC) || folio->_refcount.counter != 0)
		return false;
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_swapbacked)))
		return false;	/* shmem: goes to swap, not a shadow entry */
	return !(folio->mapping->flags & (1UL << bpf_core_enum_value(enum mapping_flags, AS_EXITING)));
}

SEC("tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(cache_activity_delete, struct folio *folio)
{
	struct ca_ghost_key gk = {};
	struct ca_inode_stats *s;
	__u64 nr;

	if (!inode_key(folio->mapping, &gk.inode))
		return 0;
	nr = nr_pages(folio);
	s = stats_of(&gk.inode, &empty_stats);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->removed, nr);
	if (!evicted_by_reclaim(folio))
		return 0;
	__sync_fetch_and_add(&s->evicted, nr);
	gk.index = folio->index;
	if (bpf_map_update_elem(&ghosts, &gk, &nr, BPF_NOEXIST) == 0) {
		__sync_fetch_and_add(&s->ghosts, 1);
		count(CA_GHOSTS_CREATED);
	} else {
		bpf_map_update_elem(&ghosts, &gk, &nr, BPF_ANY);
	}
	return 0;
}

/* Once per clean -> dirty transition of a folio (folio_account_dirtied). */
SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(cache_activity_dirty, struct folio *folio, struct address_space *mapping)
{
	struct ca_inode_key key;
	struct ca_inode_stats *s;

	if (!inode_key(mapping, &key))
		return 0;
	s = stats_of(&key, &empty_stats);
	if (s)
		__sync_fetch_and_add(&s->dirtied, nr_pages(folio));
	return 0;
}
