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
	unsigned int raw = BPF_CORE_READ(task, __state);
	unsigned int state = (raw | BPF_CORE_READ(task, exit_state)) & TASK_REPORT;
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

/* get_mm_counter() reads the percpu counter's global part only; so do we,
 * which keeps rss equal to what /proc prints. */
static __always_inline __u64 mm_counter(struct mm_struct *mm, int member)
{
	s64 v = BPF_CORE_READ(mm, rss_stat[member].count);
	return v > 0 ? v : 0;
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

	r->tid = task->pid;
	r->tgid = task->tgid;
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);
	r->state = state_letter(task);
	r->flags = task->flags;
	r->kthread = !!(task->flags & PF_KTHREAD);
	r->cpu = BPF_CORE_READ(task, thread_info.cpu);

	cred = BPF_CORE_READ(task, real_cred);
	r->uid = BPF_CORE_READ(cred, uid.val);
	r->euid = BPF_CORE_READ(cred, euid.val);
	r->gid = BPF_CORE_READ(cred, gid.val);
	r->egid = BPF_CORE_READ(cred, egid.val);

	r->nice = BPF_CORE_READ(task, static_prio) - 120;
	r->prio = BPF_CORE_READ(task, prio) - 100;
	r->start_time_ns = BPF_CORE_READ(task, start_boottime);
	r->utime_ns = BPF_CORE_READ(task, utime);
	r->stime_ns = BPF_CORE_READ(task, stime);
	r->runtime_ns = BPF_CORE_READ(task, se.sum_exec_runtime);
	r->min_flt = BPF_CORE_READ(task, min_flt);
	r->maj_flt = BPF_CORE_READ(task, maj_flt);
	r->nr_threads = BPF_CORE_READ(task, signal, nr_threads);
	r->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);

	mm = task->mm;
	if (mm && !r->kthread) {
		r->vsize = BPF_CORE_READ(mm, total_vm) << PAGE_SHIFT;
		r->rss = (mm_counter(mm, MM_FILEPAGES) +
			  mm_counter(mm, MM_ANONPAGES) +
			  mm_counter(mm, MM_SHMEMPAGES)) << PAGE_SHIFT;
		struct file *exe = mm->exe_file;
		if (exe)
			r->tail_len = tail_len_from(
				bpf_d_path((struct path *)&exe->f_path, s->tail, BPFITER_TAIL_MAX));
	}
	BPFITER_EMIT(seq, s);
	return 0;
}
