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

#define VM_READ		0x1
#define VM_WRITE	0x2
#define VM_EXEC		0x4
#define VM_MAYSHARE	0x80

/* vdso, vvar and friends are "special mappings" whose vm_ops->name is this
 * function; the name string hangs off vm_private_data. */
extern const void special_mapping_name __ksym;

/* The vma iterator kfuncs' state as 6.7 defines it (older kernels' BTF has
 * no such type), and whether the kernel has them, set at load
 * (csrc/targets/vmas.c): without them (6.1) the calls must be dead code,
 * and the gaps stay. A u64 keeps .rodata as long as the skeleton's padded
 * struct, which rodata_get compares it with. */
struct bpf_iter_task_vma___local {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
const volatile __u64 have_task_vma_iter = 0;

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma___local *it, struct task_struct *task,
				 __u64 addr) __ksym __weak;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma___local *it) __ksym __weak;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma___local *it) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/* anon_name exists only with CONFIG_ANON_VMA_NAME. */
struct anon_vma_name___local {
	char name[0];
} __attribute__((preserve_access_index));
struct vm_area_struct___named {
	struct anon_vma_name *anon_name;
} __attribute__((preserve_access_index));

static __always_inline __u16 put_literal(char *tail, const char *lit, int n)
{
	__builtin_memcpy(tail, lit, n);
	return n;
}

/* The last column of /proc/PID/maps for a mapping without a file, in the
 * order get_vma_name() tries. */
static __u16 anon_vma_name(struct vm_area_struct *vma, char *tail)
{
	const struct vm_operations_struct *ops = vma->vm_ops;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long start = vma->vm_start, end = vma->vm_end;

	if (ops && ops->name == (void *)&special_mapping_name) {
		struct vm_special_mapping *sm = vma->vm_private_data;
		const char *name = BPF_CORE_READ(sm, name);
		long n = bpf_probe_read_kernel_str(tail, 64, name);
		return n > 1 ? n - 1 : 0;
	}
	if (!mm)
		return put_literal(tail, "[vdso]", 6);
	if (start <= mm->brk && end >= mm->start_brk)
		return put_literal(tail, "[heap]", 6);
	if (start <= mm->start_stack && end >= mm->start_stack)
		return put_literal(tail, "[stack]", 7);
	if (bpf_core_field_exists(((struct vm_area_struct___named *)vma)->anon_name)) {
		struct anon_vma_name *an =
			BPF_CORE_READ((struct vm_area_struct___named *)vma, anon_name);
		if (an) {
			long n;
			__builtin_memcpy(tail, "[anon:", 6);
			n = bpf_probe_read_kernel_str(tail + 6, 256,
				((struct anon_vma_name___local *)an)->name);
			if (n <= 1)
				return 0;
			tail[(6 + n - 1) & (BPFITER_TAIL_MAX - 1)] = ']';
			return 6 + n;
		}
	}
	return 0;
}

/* The record of vma from address start on (start >= vm_start) into the
 * scratch slot, and out: 0, or < 0 when the kernel's buffer is full. */
static __always_inline long emit_vma(struct seq_file *seq, __u32 pid,
				     struct vm_area_struct *vma, __u64 start)
{
	struct scratch_slot *s = scratch_get();
	struct vma_record *r;
	struct file *file;
	__u64 flags;

	if (!s)
		return 0;
	r = &s->rec;
	r->pid = pid;
	r->start = start;
	r->end = vma->vm_end;
	flags = vma->vm_flags;
	r->vm_flags = flags;
	r->perms[0] = flags & VM_READ ? 'r' : '-';
	r->perms[1] = flags & VM_WRITE ? 'w' : '-';
	r->perms[2] = flags & VM_EXEC ? 'x' : '-';
	r->perms[3] = flags & VM_MAYSHARE ? 's' : 'p';

	file = vma->vm_file;
	if (file) {
		struct inode *inode = file->f_inode;
		r->offset = (vma->vm_pgoff << PAGE_SHIFT) + (start - vma->vm_start);
		r->ino = inode->i_ino;
		r->dev = inode->i_sb->s_dev;
		if (BPFITER_WANTS(VMA_WANT_PATH))
			r->tail_len = tail_len_from(
				bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	} else if (BPFITER_WANTS(VMA_WANT_PATH)) {
		r->tail_len = anon_vma_name(vma, s->tail);
	}
	return BPFITER_EMIT(seq, s);
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
