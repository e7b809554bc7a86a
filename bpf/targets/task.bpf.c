// SPDX-License-Identifier: GPL-2.0
/* tasks: one record per thread, from the task iterator. */
#include "iter_common.bpf.h"
#include "task_record.h"

BPFITER_SCRATCH(task_record)
BPFITER_TARGET("tasks", task_record);

#define PF_KTHREAD		0x00200000
#define PF_WQ_WORKER		0x00000020
#define TASK_WAKING		0x200
#define WCHAN_FRAMES		8
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

extern int LINUX_KERNEL_VERSION __kconfig;

/* proc_task_name(): comm holds 15 characters; /proc shows a kernel
 * thread's full name (kthread->full_name, e.g. "kworker/R-rcu_gp"), and for
 * a workqueue worker adds its current (+) or last (-) work description
 * ("kworker/0:1H-kblockd"). */
static __always_inline void task_name(struct task_struct *task, char *name)
{
	struct kthread *k;
	struct worker *w = NULL;
	__u64 args[3];
	char *full_name;

	__builtin_memcpy(name, task->comm, sizeof(task->comm));
	if (!(task->flags & PF_KTHREAD))
		return;
	k = task->worker_private;	/* to_kthread(); void *: probe reads */
	if (!k)
		return;
	full_name = BPF_CORE_READ(k, full_name);
	/* A workqueue worker's name starts with its comm before 6.9
	 * ("workqueue: ... make wq_worker_comm() use full ID string";
	 * measured: 6.1 shows comm, 6.12 and 6.18 the full name) */
	if ((task->flags & PF_WQ_WORKER) && LINUX_KERNEL_VERSION < KERNEL_VERSION(6, 9, 0))
		full_name = NULL;
	if (full_name)
		bpf_probe_read_kernel_str(name, 64, full_name);
	if (task->flags & PF_WQ_WORKER)
		w = BPF_CORE_READ(k, data);	/* kthread_data() */
	if (!w || !BPF_CORE_READ(w, pool) || !BPF_CORE_READ(w, desc[0]))
		return;
	args[0] = full_name ? (__u64)full_name : (__u64)task->comm;
	args[1] = BPF_CORE_READ(w, current_work) ? '+' : '-';
	args[2] = (__u64)w->desc;
	bpf_snprintf(name, 64, "%s%c%s", args, sizeof(args));
}

/* The scheduler's and the lock functions' text, which get_wchan() skips.
 * Resolved from /proc/kallsyms when the program loads: without CAP_SYSLOG
 * it shows zeros, and wchan stays empty rather than naming __schedule. */
extern const void __sched_text_start __ksym __weak;
extern const void __sched_text_end __ksym __weak;
extern const void __lock_text_start __ksym __weak;
extern const void __lock_text_end __ksym __weak;

static __always_inline bool in_sched_functions(__u64 ip)
{
	return (ip >= (__u64)&__sched_text_start && ip < (__u64)&__sched_text_end) ||
	       (ip >= (__u64)&__lock_text_start && ip < (__u64)&__lock_text_end);
}

/* get_wchan(): the first return address outside the scheduler on the stack
 * of a blocked task, printed with %ps as /proc/PID/wchan does. A task that
 * runs (or is about to) has none. Racy as /proc's: the task may wake. */
static __always_inline void task_wchan(struct task_struct *task, char *wchan)
{
	__u64 stack[WCHAN_FRAMES];
	long n;

	if (!(__u64)&__sched_text_end)
		return;
	if (task->__state == 0 || task->__state == TASK_WAKING || task->on_rq)
		return;
	n = bpf_get_task_stack(task, stack, sizeof(stack), 0);
	if (n <= 0)
		return;
	n /= sizeof(__u64);
	for (int i = 0; i < WCHAN_FRAMES; i++) {
		if (i >= n)
			return;
		if (!in_sched_functions(stack[i])) {
			bpf_snprintf(wchan, 64, "%ps", &stack[i], sizeof(stack[i]));
			return;
		}
	}
}

/* The number a struct pid has in the initial namespace, as r->tid is. */
static __always_inline __u32 pid_number(struct pid *pid)
{
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

/* tty_devnum(): the device the controlling tty is, kernel encoding. */
static __always_inline __u32 tty_dev(struct tty_struct *tty)
{
	struct tty_driver *d;

	if (!tty)
		return 0;
	d = tty->driver;
	return ((__u32)d->major << 20 | d->minor_start) + tty->index;
}

/* Kernels before 6.2 have no bpf_rcu_read_lock(), which a sleepable program
 * needs here: task_nosleep.bpf.c builds this file with TASK_NO_SLEEP, a
 * plain iter/task program without cmdline, and csrc/targets/tasks.c embeds
 * the one the running kernel loads. */
#ifndef TASK_NO_SLEEP
#define TASK_SECTION "iter.s/task"
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
#else
#define TASK_SECTION "iter/task"
#define bpf_rcu_read_lock() do { } while (0)
#define bpf_rcu_read_unlock() do { } while (0)
#endif

/* The argument area of the task's process, read from its memory: a
 * sleepable program's helper (the pages may have to be faulted in). While
 * it sleeps another walk (another process sharing this cached program) may
 * run on this CPU and use the per-CPU buffers; `gen` tells: every copy
 * takes a new generation, and a copy whose generation moved is made again
 * (three tries, then the record goes out without arguments). Threads of a
 * process come one after another: the buffer still holding their process's
 * arguments (same walk, same mm, untouched generation) is used as it is. */
struct cmdline_buf {
	__u64 gen;
	__u64 session;		/* of the walk, the mm and the generation the text is of */
	void *mm;
	__u64 text_gen;
	__u32 len;
	__u8 cut;
	char text[TASK_CMDLINE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cmdline_buf);
} cmdline_scratch SEC(".maps");

#ifndef TASK_NO_SLEEP
static __always_inline __u32 read_cmdline(struct bpf_iter_meta *meta, struct task_struct *task,
					  struct cmdline_buf *b, __u8 *cut)
{
	struct mm_struct *mm = task->mm;
	unsigned long start, end;
	__u32 len;
	__u64 gen;

	if (!mm || (task->flags & PF_KTHREAD))
		return 0;
	if (b->session == meta->session_id && b->mm == mm && b->text_gen == b->gen) {
		*cut = b->cut;
		return b->len;
	}
	start = mm->arg_start;
	end = mm->arg_end;
	if (end <= start)
		return 0;
	len = end - start > TASK_CMDLINE_MAX ? TASK_CMDLINE_MAX : end - start;
	*cut = end - start > TASK_CMDLINE_MAX;
	for (int tries = 0; tries < 3; tries++) {
		gen = ++b->gen;
		if (bpf_copy_from_user_task(b->text, len, (void *)start, task, 0))
			return 0;
		if (b->gen == gen) {
			b->session = meta->session_id;
			b->mm = mm;
			b->text_gen = gen;
			b->len = len;
			b->cut = *cut;
			return len;
		}
	}
	return 0;
}
#else
static __always_inline __u32 read_cmdline(struct bpf_iter_meta *meta, struct task_struct *task,
					  struct cmdline_buf *b, __u8 *cut)
{
	return 0;	/* bpf_copy_from_user_task needs a sleepable program */
}
#endif

SEC(TASK_SECTION)
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct scratch_slot *s;
	struct task_record *r;
	struct mm_struct *mm;
	const struct cred *cred;
	struct cmdline_buf *cmd;
	__u32 zero = 0, cmd_len;
	__u8 cut = 0;

	BPFITER_FRAME(ctx->meta, task);
	if (!task)
		return 0;
	/* The one step that sleeps goes first: after it, nothing below
	 * sleeps, and the buffers are ours until the record is out. */
	cmd = bpf_map_lookup_elem(&cmdline_scratch, &zero);
	if (!cmd)
		return 0;
	cmd_len = BPFITER_WANTS(TASK_WANT_CMDLINE) ? read_cmdline(ctx->meta, task, cmd, &cut) : 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	bpf_rcu_read_lock();	/* sleepable: pointers below are RCU-protected */

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
	r->pgid = pid_number(task->signal->pids[PIDTYPE_PGID]);
	r->sid = pid_number(task->signal->pids[PIDTYPE_SID]);
	r->tty = tty_dev(task->signal->tty);
	if (BPFITER_WANTS(TASK_WANT_NAME))
		task_name(task, r->name);

	mm = task->mm;
	if (mm && !r->kthread) {
		struct file *exe = mm->exe_file;

		r->vsize = mm->total_vm << PAGE_SHIFT;
		r->rss = (mm_counter(mm, MM_FILEPAGES) +
			  mm_counter(mm, MM_ANONPAGES) +
			  mm_counter(mm, MM_SHMEMPAGES)) << PAGE_SHIFT;
		if (exe && BPFITER_WANTS(TASK_WANT_EXE))
			r->exe_len = exe_path(ctx->meta, exe, s);
	}
	bpf_rcu_read_unlock();
	/* Outside the RCU section: in a sleepable program 6.12's verifier
	 * counts bpf_get_task_stack among the helpers that may sleep (a user
	 * stack can fault) and refuses it under bpf_rcu_read_lock(). A kernel
	 * stack, as here, never faults: the buffers stay ours. */
	if (BPFITER_WANTS(TASK_WANT_WCHAN))
		task_wchan(task, r->wchan);
	r->exe_len &= BPFITER_TAIL_MAX - 1;
	cmd_len &= BPFITER_TAIL_MAX - 1;	/* for the verifier: <= TASK_CMDLINE_MAX */
	if (cmd_len && !bpf_probe_read_kernel(s->tail + r->exe_len, cmd_len, cmd->text)) {
		r->cmdline_len = cmd_len;
		r->cmdline_cut = cut;
	}
	r->tail_len = r->exe_len + r->cmdline_len;
	BPFITER_EMIT(seq, s);
	return 0;
}
