// SPDX-License-Identifier: GPL-2.0
/* cgroups: one record per cgroup, from the cgroup iterator (the walk's root
 * and order come from the link).
 *
 * The kernel's cgroup iterator holds cgroup_mutex for one read() and
 * refuses a second one (cgroup_iter_seq_start: EOPNOTSUPP for *pos > 0),
 * so the whole walk must happen in the first read(), whose data the
 * kernel's 32 KiB seq buffer bounds (~500 records). A walk read by its
 * loader (an iterator fd from bpf_iter_create) therefore sends its records
 * to the ring and only the header and trailer to the stream, as unix does
 * (struct target.one_read: the reader loads a larger ring and walks again
 * when it fills). A full ring must end the read() with the walk unfinished:
 * returning 1 would not do (for the cgroup iterator it ends the walk, which
 * then looks complete), so the program overflows the stream buffer
 * instead, which ends the read() before this cgroup, leaves the walk
 * unfinished and makes the next read() fail. A pinned view's readers (bpffs files, `cat`) cannot
 * reach the ring: there every record goes to the stream, and a walk beyond
 * that one buffer fails with EOPNOTSUPP. */
#include "iter_common.bpf.h"
#include "cgroup_record.h"

BPFITER_SCRATCH(cgroup_record)
BPFITER_TARGET("cgroups", cgroup_record);
/* ~5,000 cgroups with 150-byte paths; the reader doubles it when needed. */
BPFITER_RING(1 << 20);

#define BPF_FS_MAGIC		0xcafe4a11

#define CSS_TASK_ITER_PROCS	(1U << 0)
#define CSS_TASK_ITER_THREADED	(1U << 1)
/* Deeper cgroups get a path that starts with ".../" (32 components kept). */
#define MAX_DEPTH		32
#define NAME_MAX_Z		256	/* a kernfs name with its NUL */
/* Counting stops here; pid_max cannot exceed it. */
#define MAX_TASKS		(1U << 22)

/* The kfuncs' state, as 6.7 defines it: older kernels' BTF has no such
 * type. The kernel checks its own prototype, so the local name is fine. */
struct bpf_iter_css_task___local {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

/* BPFITER_NO_KFUNC_ITERS (cgroup_nokfunc.bpf.c): the same program without
 * the kfunc externs, for kernels without them. Weak as they are, libbpf
 * looks for them in the modules' BTF too, which before 6.7 only
 * CAP_SYS_ADMIN may list: a CAP_BPF+CAP_PERFMON loader failed on 6.1. */
#ifndef BPFITER_NO_KFUNC_ITERS
extern int bpf_iter_css_task_new(struct bpf_iter_css_task___local *it,
				 struct cgroup_subsys_state *css, unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task___local *it) __ksym __weak;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task___local *it) __ksym __weak;
#endif

/* Set at load (csrc/targets/cgroups.c) when the kernel has the css_task
 * kfuncs (6.7): on older kernels the calls must be dead code, which the
 * verifier then skips. A u64 keeps .rodata as long as the skeleton's
 * padded struct, which rodata_get compares it with. */
const volatile __u64 have_css_task_iter = 0;

/* kernfs_node.parent became __parent (6.15): read whichever exists. */
struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	struct kernfs_node___new *n = (void *)kn;

	if (bpf_core_field_exists(n->__parent))
		return BPF_CORE_READ(n, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* Tasks of this cgroup itself (not of its descendants), as the cgroup's
 * files list them: flags 0 is cgroup.threads, PROCS|THREADED cgroup.procs.
 * The count lives in the record (map memory), not in a register, so the
 * verifier sees one loop state instead of one per count. */
static __always_inline void count_tasks(struct cgroup *cgrp, unsigned int flags, __u32 *n)
{
#ifndef BPFITER_NO_KFUNC_ITERS
	struct bpf_iter_css_task___local it;

	bpf_iter_css_task_new(&it, &cgrp->self, flags);
	while (bpf_iter_css_task_next(&it))
		if (++*n >= MAX_TASKS)
			break;
	bpf_iter_css_task_destroy(&it);
#endif
}

/* The path is built right to left, from the cgroup's kernfs name up
 * through its parents, in a per-CPU buffer; `name` stages one component.
 * The write position lives in the map, not in a register: the verifier
 * then sees every iteration start alike instead of one state per length. */
struct path_work {
	__u32 pos;
	__u32 pad;
	char buf[BPFITER_TAIL_MAX + NAME_MAX_Z];
	char name[NAME_MAX_Z];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_work);
} path_work SEC(".maps");

#define END (BPFITER_TAIL_MAX - 1)	/* the path is buf[pos, END) */
#define MASK (BPFITER_TAIL_MAX - 1)

/* The path from the hierarchy's root into tail; returns its length. At
 * most MAX_DEPTH components and BPFITER_TAIL_MAX - 1 bytes: a longer path
 * keeps its last components after a leading "...". */
static __always_inline __u16 cgroup_path(struct kernfs_node *kn, char *tail)
{
	__u32 zero = 0, pos;
	struct path_work *w = bpf_map_lookup_elem(&path_work, &zero);

	if (!w)
		return 0;
	w->pos = END;
	for (int i = 0; i < MAX_DEPTH; i++) {
		struct kernfs_node *up = kn_parent(kn);
		long len;
		__u32 chars;

		if (!up)
			break;
		len = bpf_probe_read_kernel_str(w->name, NAME_MAX_Z, BPF_CORE_READ(kn, name));
		chars = len > 1 ? (__u32)(len - 1) & (NAME_MAX_Z - 1) : 0;
		pos = w->pos;
		if (pos > END || pos < chars + 1 + 3)	/* keep room for "..." */
			break;
		pos -= chars + 1;
		w->pos = pos;
		w->buf[pos & MASK] = '/';
		bpf_probe_read_kernel(&w->buf[(pos + 1) & MASK], chars, w->name);
		kn = up;
	}
	pos = w->pos;
	if (pos == END || pos > END) {
		tail[0] = '/';
		return 1;
	}
	if (kn_parent(kn)) {		/* not at the root yet: cut */
		pos -= 3;
		w->buf[pos & MASK] = '.';
		w->buf[(pos + 1) & MASK] = '.';
		w->buf[(pos + 2) & MASK] = '.';
	}
	bpf_probe_read_kernel(tail, (END - pos) & MASK, &w->buf[pos & MASK]);
	return END - pos;
}

/* Writes until the stream buffer overflows (16 slots are over 128 KiB, the
 * kernel's buffer 32 KiB): the kernel then drops what this cgroup wrote,
 * ends the read() and leaves the walk unfinished. */
static __always_inline void overflow_stream(struct seq_file *seq, struct scratch_slot *s)
{
	for (int i = 0; i < 16; i++)
		if (bpf_seq_write(seq, s, sizeof(*s)) < 0)
			break;
}

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct cgroup *cgrp = ctx->cgroup;
	struct scratch_slot *s;
	struct cgroup_record *r;
	struct cgroup_subsys_state *parent;

	BPFITER_FRAME(ctx->meta, cgrp);
	if (!cgrp)
		return 0;
	/* The kernel skips dead cgroups without running us but still counts
	 * them, so the first cgroup we see may not be number 0. The whole walk
	 * happens in one read() (the iterator cannot go on in a second one),
	 * so an empty buffer means nothing, not even the header, went out yet. */
	if (ctx->meta->seq_num != 0 && seq->count == 0)
		bpf_seq_write(seq, (void *)&bpfiter_begin, sizeof(bpfiter_begin));
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	r->id = cgrp->kn->id;
	r->level = cgrp->level;
	parent = cgrp->self.parent;
	if (parent)
		r->parent_id = parent->cgroup->kn->id;
	r->hierarchy_id = cgrp->root->hierarchy_id;
	r->nr_descendants = cgrp->nr_descendants;
	r->nr_dying_descendants = cgrp->nr_dying_descendants;
	r->populated = cgrp->nr_populated_csets + cgrp->nr_populated_domain_children +
		       cgrp->nr_populated_threaded_children != 0;
	r->frozen = (cgrp->flags >> CGRP_FROZEN) & 1;
	r->threaded = cgrp->dom_cgrp != cgrp;
	if (have_css_task_iter) {
		count_tasks(cgrp, 0, &r->nr_tasks);
		count_tasks(cgrp, CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED, &r->nr_procs);
	} else {
		r->nr_tasks = r->nr_procs = CGROUP_COUNT_UNKNOWN;
	}
	r->tail_len = cgroup_path(cgrp->kn, s->tail);
	if (BPF_CORE_READ(seq, file, f_inode, i_sb, s_magic) == BPF_FS_MAGIC) {
		BPFITER_EMIT(seq, s);	/* a pinned view: see the top */
		return 0;
	}
	if (BPFITER_RING_EMIT(s))	/* full: the reader walks again, with a larger one */
		overflow_stream(seq, s);
	return 0;
}
