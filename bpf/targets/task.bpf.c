// SPDX-License-Identifier: GPL-2.0
/* tasks: one record per thread, from the task iterator. */
#include "iter_common.bpf.h"
#include "task_record.h"

BPFITER_SCRATCH(task_record)
BPFITER_TARGET("tasks", task_record);

#define PF_KTHREAD		0x00200000
#define TASK_REPORT		0x7f
#define TASK_IDLE		0x402
#define TASK_RTLOCK_WAIT	0x1000
#define TASK_UNINTERRUPTIBLE	0x2
#define MM_FILEPAGES		0
#define MM_ANONPAGES		1
#define MM_SHMEMPAGES		3

/* The letter /proc shows, computed as task_state_index() does. */
static __always_inline char state_letter(struct task_struct *task)
{
	unsigned int raw = task->__state;
	unsigned int state = (raw | task->exit_state) & TASK_REPORT;
	int idx = 0;

	if ((raw & TASK_IDLE) == TASK_IDLE)
		state = 0x80;
	if (raw == TASK_RTLOCK_WAIT)
		state = TASK_UNINTERRUPTIBLE;
	for (int bit = 0; bit < 8; bit++)	/* fls() */
		if (state & (1u << bit))
			idx = bit + 1;
	switch (idx) {
	case 0: return 'R';
	case 1: return 'S';
	case 2: return 'D';
	case 3: return 'T';
	case 4: return 't';
	case 5: return 'X';
	case 6: return 'Z';
	case 7: return 'P';
	default: return 'I';
	}
}

/* mm->rss_stat: percpu counters from 6.2, a struct of atomics before. */
struct mm_struct___percpu {
	struct percpu_counter rss_stat[4];
} __attribute__((preserve_access_index));
struct mm_rss_stat___atomic {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));
struct mm_struct___atomic {
	struct mm_rss_stat___atomic rss_stat;
} __attribute__((preserve_access_index));

/* get_mm_counter() reads the percpu counter's global part only; so do we,
 * which keeps rss equal to what /proc prints. `member` is a constant after
 * inlining: CO-RE then relocates the element with the kernel's own size. */
static __always_inline __u64 mm_counter(struct mm_struct *mm, int member)
{
	struct mm_struct___percpu *pc = (void *)mm;
	struct mm_struct___atomic *at = (void *)mm;
	s64 v;

	/* probe reads: 6.1's verifier refuses the direct load of an element */
	if (bpf_core_field_exists(pc->rss_stat))
		v = BPF_CORE_READ(pc, rss_stat[member].count);
	else
		v = BPF_CORE_READ(at, rss_stat.count[member].counter);
	return v > 0 ? v : 0;
}

/* Threads of a process come one after another and share one executable:
 * resolve its path once. The per-CPU slot remembers which walk (session)
 * and which exe file the scratch tail on this CPU holds. */
struct exe_seen {
	__u64 session;
	void *exe;
	__u16 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_seen);
} exe_cache SEC(".maps");

static __always_inline __u16 exe_path(struct bpf_iter_meta *meta, struct file *exe,
				      struct scratch_slot *s)
{
	__u32 zero = 0;
	struct exe_seen *seen = bpf_map_lookup_elem(&exe_cache, &zero);

	if (seen && seen->session == meta->session_id && seen->exe == exe)
		return seen->len;
	__u16 len = tail_len_from(bpf_d_path((struct path *)&exe->f_path, s->tail,
					     BPFITER_TAIL_MAX));
	if (seen) {
		seen->session = meta->session_id;
		seen->exe = exe;
		seen->len = len;
	}
	return len;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct scratch_slot *s;
	struct task_record *r;
	struct mm_struct *mm;
	const struct cred *cred;

	BPFITER_FRAME(ctx->meta, task);
	if (!task)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	/* Direct loads from the task (and the objects it points to) are
	 * checked fault-free loads; much cheaper than probe-read helpers. */
	r->tid = task->pid;
	r->tgid = task->tgid;
	r->ppid = task->real_parent->tgid;
	__builtin_memcpy(r->comm, task->comm, sizeof(r->comm));
	r->state = state_letter(task);
	r->flags = task->flags;
	r->kthread = !!(task->flags & PF_KTHREAD);
	r->cpu = task->thread_info.cpu;

	cred = task->real_cred;
	r->uid = cred->uid.val;
	r->euid = cred->euid.val;
	r->gid = cred->gid.val;
	r->egid = cred->egid.val;

	r->nice = task->static_prio - 120;
	r->prio = task->prio - 100;
	r->start_time_ns = task->start_boottime;
	r->utime_ns = task->utime;
	r->stime_ns = task->stime;
	r->runtime_ns = task->se.sum_exec_runtime;
	r->min_flt = task->min_flt;
	r->maj_flt = task->maj_flt;
	r->nr_threads = task->signal->nr_threads;
	r->cgroup_id = task->cgroups->dfl_cgrp->kn->id;

	mm = task->mm;
	if (mm && !r->kthread) {
		struct file *exe = mm->exe_file;

		r->vsize = mm->total_vm << PAGE_SHIFT;
		r->rss = (mm_counter(mm, MM_FILEPAGES) +
			  mm_counter(mm, MM_ANONPAGES) +
			  mm_counter(mm, MM_SHMEMPAGES)) << PAGE_SHIFT;
		if (exe)
			r->tail_len = exe_path(ctx->meta, exe, s);
	}
	BPFITER_EMIT(seq, s);
	return 0;
}
