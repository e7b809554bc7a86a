// SPDX-License-Identifier: GPL-2.0
/* vmas, open-coded: one call per task of the task iterator, which walks
 * that process's mappings with the vma iterator kfuncs (6.7) under one
 * mmap read lock, instead of one call per mapping of the task_vma iterator
 * (vma.bpf.c), which finds its place again by address at every step.
 *
 * One process can have 65,530 mappings and more, far beyond the ~32 KiB
 * one object may write to the stream, so records go to the ring buffer
 * (iter_common.bpf.h: BPFITER_RING) and a marker with their count to the
 * stream. When the ring fills up, the program asks to see the task again
 * (returns 1) and goes on from a cursor kept per iterator session: the end
 * of the last record sent. The vma iterator only try-locks the mmap lock
 * (EBUSY while a writer holds or waits for it): then the task is shown
 * again too. Both are bounded (see the MAX_* below); past a bound the
 * program gives up and the walk raises.
 *
 * Order: one walk under one lock sees a consistent tree, strictly
 * increasing. Across shows the mappings may have changed: the walk resumes
 * at the first mapping ending above the cursor and reports it from the
 * cursor on (start and file offset raised), as vma.bpf.c does, so records
 * of a process stay strictly increasing and never overlap. */
#include "iter_common.bpf.h"
#include "vma_record.h"

BPFITER_SCRATCH(vma_record)
#include "vma_fill.bpf.h"
BPFITER_TARGET("vmas_open", vma_record);
/* ~8,000 records with 60-byte paths per show */
BPFITER_RING(1 << 20);

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
/* A read-only view of p as TYPE. The verifier checks every load of a
 * pointer through a trusted pointer (the vma iterator's vma, the task
 * iterator's task) against its lists of trusted fields, one scan of the
 * kernel's whole BTF each: with the vma's fields that took 0.3 s to load.
 * Loads through a view are fault-checked like any other. */
#define VIEW(TYPE, p) \
	((struct TYPE *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct TYPE)))

#define PF_KTHREAD	0x00200000
#define EBUSY		16

/* Shows of one task: in all (each sends up to a full ring; 65,530
 * mappings take ~9), in a row that sent nothing, and in a row that found
 * the mmap lock taken (each a read() apart: a writer that holds the lock
 * for that long is stuck). */
#define MAX_SHOWS 1024
#define MAX_IDLE_SHOWS 4
#define MAX_BUSY_SHOWS 4096

/* Where the walk of a task stands when it must be shown again, per
 * iterator session. LRU: a walk abandoned midway leaves its entry. */
struct cursor {
	__u64 start_time;	/* with pid: the task resumed */
	__u64 end;		/* end of the last record sent */
	__u32 pid;
	__u32 done;		/* all sent; only the stream marker failed */
	__u32 shows;
	__u16 idle;
	__u16 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct cursor);
} session_cursor SEC(".maps");

/* The show's state lives here, not on the stack: scalars that differ
 * between the paths into the loop, or change in every step, keep the
 * verifier from seeing that the loop's states repeat ("sequence of jumps
 * too complex"), and every state it checks costs: each load of vm_file
 * from the trusted vma is a scan of the kernel's BTF. */
struct walk {
	struct cursor at;	/* from the session's cursor, or a new one */
	__u32 count;		/* records sent in this show */
	__u32 full;		/* the ring filled up */
	__u32 resumed;		/* the session had a cursor */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walk_state SEC(".maps");

/* One walk per address space, as /proc/PID/maps: the group leader's
 * (threads share it), none for kernel threads (a borrowed mm is not
 * theirs) or a leader that has exited. A thread whose mm differs from its
 * leader's (exec under way) is walked too. */
static __always_inline bool walks_mm(struct task_struct *task)
{
	struct mm_struct *mm, *leader_mm;

	task = VIEW(task_struct, task);
	mm = task->mm;

	if (!mm || (task->flags & PF_KTHREAD))
		return false;
	if (task->pid == task->tgid)
		return true;
	leader_mm = task->group_leader->mm;
	return leader_mm && leader_mm != mm;
}

SEC("iter/task")
int dump_vma_open(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u64 sid = ctx->meta->session_id;
	struct bpf_iter_task_vma___local it;
	struct vm_area_struct *v;
	struct scratch_slot *s;
	struct cursor *c;
	struct walk *w;
	__u32 zero = 0;
	int err;

	BPFITER_FRAME(ctx->meta, task);
	if (!task) {
		bpf_map_delete_elem(&session_cursor, &sid);
		return 0;
	}
	if (!walks_mm(task))
		return 0;
	w = bpf_map_lookup_elem(&walk_state, &zero);
	if (!w)
		return 0;
	__builtin_memset(w, 0, sizeof(*w));
	w->at.pid = task->tgid;
	w->at.start_time = task->start_time;
	c = bpf_map_lookup_elem(&session_cursor, &sid);
	if (c) {
		w->resumed = 1;
		if (c->pid == w->at.pid && c->start_time == w->at.start_time) {
			if (c->done) {	/* the reader has the records already */
				bpf_map_delete_elem(&session_cursor, &sid);
				return 0;
			}
			w->at = *c;
		}
	}
	if (w->at.shows >= MAX_SHOWS || w->at.idle >= MAX_IDLE_SHOWS || w->at.busy >= MAX_BUSY_SHOWS) {
		/* the cursor stays past the bound until the reader has it */
		if (bpfiter_give_up(seq, BPFITER_GAVE_UP_RESHOWN) == 0)
			bpf_map_delete_elem(&session_cursor, &sid);
		return 0;
	}

	err = bpf_iter_task_vma_new(&it, task, w->at.end);
	while (!err && (v = bpf_iter_task_vma_next(&it))) {
		struct vm_area_struct *view = VIEW(vm_area_struct, v);
		__u64 end = w->at.end;

		/* vm_file through v: bpf_d_path refuses a view's pointers */
		s = fill_vma(w->at.pid, view, v->vm_file, view->vm_start > end ? view->vm_start : end);
		if (!s || BPFITER_RING_EMIT(s) < 0) {
			w->full = 1;
			break;
		}
		w->at.end = view->vm_end;
		w->count++;
	}
	bpf_iter_task_vma_destroy(&it);

	if (w->full || err == -EBUSY) {
		w->at.shows += w->full;
		w->at.idle = w->full && !w->count ? w->at.idle + 1 : 0;
		w->at.busy = err == -EBUSY ? w->at.busy + 1 : 0;
		bpf_map_update_elem(&session_cursor, &sid, &w->at, BPF_ANY);
		return 1;
	}
	/* err: no mm any more (the process exited meanwhile) */
	if (w->count && bpfiter_ring_mark(seq, w->count) < 0) {
		/* The stream is full: the kernel shows this task again, but the
		 * records are in the ring and the reader takes them before. */
		w->at.done = 1;
		bpf_map_update_elem(&session_cursor, &sid, &w->at, BPF_ANY);
		return 0;
	}
	if (w->resumed)
		bpf_map_delete_elem(&session_cursor, &sid);
	return 0;
}
