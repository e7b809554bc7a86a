// SPDX-License-Identifier: GPL-2.0
/* vmas: one record per memory mapping, from the task_vma iterator.
 *
 * Address order: the kernel's iterator (kernel/bpf/task_iter.c,
 * task_vma_seq_get_next) lets go of the mmap lock when a writer waits and
 * at every read() boundary, then finds its place again with
 * find_vma(prev_end - 1): the mapping that now holds the address below
 * where it stood. If the mappings changed meanwhile (a merge, a split, a
 * mapping that grew), that one can start below the end of the last one
 * shown: a duplicate start, or a record overlapping the one before. So the
 * program remembers, per walk, the process and the end of the last record
 * it wrote, and for that process skips a mapping that ends there or below
 * (reported already) and reports one that starts below it from there on
 * (start and file offset raised). Records of a process are then strictly
 * increasing and never overlap. A mapping the kernel stepped over is
 * looked for too (fill_gap). */
#include "iter_common.bpf.h"
#include "vma_record.h"

BPFITER_SCRATCH(vma_record)
#include "vma_fill.bpf.h"
BPFITER_TARGET("vmas", vma_record);

/* Where a walk stands: the process and the end of the last record written.
 * Keyed by the iterator session; dropped at the end of the walk, and
 * evicted when walks abandoned midway pile up. */
struct walk_pos {
	__u32 pid;
	__u32 pad;
	__u64 end;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct walk_pos);
} session_pos SEC(".maps");

/* Whether the kernel has the vma iterator kfuncs (vma_fill.bpf.h), set at
 * load (csrc/targets/vmas.c): without them (6.1) the calls must be dead
 * code, and the gaps stay. A u64 keeps .rodata as long as the skeleton's
 * padded struct, which rodata_get compares it with. */
const volatile __u64 have_task_vma_iter = 0;

/* The record of vma from address start on (start >= vm_start) out: 0, or
 * < 0 when the kernel's buffer is full. */
static __always_inline long emit_vma(struct seq_file *seq, __u32 pid,
				     struct vm_area_struct *vma, __u64 start)
{
	struct scratch_slot *s = fill_vma(pid, vma, vma->vm_file, start);

	return s ? BPFITER_EMIT(seq, s) : 0;
}

/* The mappings between address at and below, which the kernel's iterator
 * stepped over when it found its place again at the start of a read()
 * (it resumes after the end of the mapping it had fetched next, not of the
 * last one shown: task_vma_seq_stop),
 * found with the open-coded vma iterator under the mmap lock the task_vma
 * iterator holds. At most GAP_FILL_MAX of them, so that one show stays
 * within the kernel's 32 KiB per object (paths of 4 KiB). Returns the end
 * of the last one written, or 0 when a write failed. When the lock is
 * contended (a writer waits) the vma iterator cannot take it and the gap
 * stays. */
#define GAP_FILL_MAX 6

static __always_inline __u64 fill_gap(struct seq_file *seq, struct task_struct *task, __u32 pid,
				      __u64 at, __u64 below)
{
#ifndef BPFITER_NO_KFUNC_ITERS
	struct bpf_iter_task_vma___local it;
	struct vm_area_struct *v;
	/* the vma iterator wants a trusted task; the context's is not */
	struct task_struct *t;

	if (!have_task_vma_iter)
		return at;
	t = bpf_task_from_pid(task->pid);
	if (!t)
		return at;
	if (bpf_iter_task_vma_new(&it, t, at) == 0) {
		for (int i = 0; i < GAP_FILL_MAX; i++) {
			v = bpf_iter_task_vma_next(&it);
			if (!v || v->vm_start >= below)
				break;
			if (emit_vma(seq, pid, v, v->vm_start > at ? v->vm_start : at) < 0) {
				at = 0;
				break;
			}
			at = v->vm_end;
		}
	}
	bpf_iter_task_vma_destroy(&it);
	bpf_task_release(t);
#endif
	return at;
}

SEC("iter/task_vma")
int dump_vma(struct bpf_iter__task_vma *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	__u64 session = ctx->meta->session_id;
	static const struct walk_pos nowhere;
	struct walk_pos *pos;
	__u64 at = 0;
	__u32 pid;

	BPFITER_FRAME(ctx->meta, vma);
	if (!vma) {
		bpf_map_delete_elem(&session_pos, &session);
		return 0;
	}
	if (!task)
		return 0;
	pid = task->tgid;
	pos = bpf_map_lookup_elem(&session_pos, &session);
	if (!pos) {
		bpf_map_update_elem(&session_pos, &session, &nowhere, BPF_NOEXIST);
		pos = bpf_map_lookup_elem(&session_pos, &session);
	}
	if (pos && pos->pid == pid) {
		if (vma->vm_end <= pos->end)
			return 0;
		at = pos->end;
		/* Only the first mapping of a read() can follow a gap the
		 * kernel made: when it lets go of the lock for a writer it
		 * resumes after the last mapping shown, skipping nothing. */
		if (at < vma->vm_start && BPF_CORE_READ(seq, count) == 0) {
			at = fill_gap(seq, task, pid, at, vma->vm_start);
			if (!at)
				return 0;
		}
	}
	/* Only records that went out move the walk on: when the kernel's
	 * buffer fills up, it drops what this show wrote and shows the
	 * mapping again in the next read(). */
	if (emit_vma(seq, pid, vma, at > vma->vm_start ? at : vma->vm_start) == 0 && pos) {
		pos->pid = pid;
		pos->end = vma->vm_end;
	}
	return 0;
}
