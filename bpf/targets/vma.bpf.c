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
 * increasing and never overlap. */
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
} walk_pos SEC(".maps");

#define VM_READ		0x1
#define VM_WRITE	0x2
#define VM_EXEC		0x4
#define VM_MAYSHARE	0x80

/* vdso, vvar and friends are "special mappings" whose vm_ops->name is this
 * function; the name string hangs off vm_private_data. */
extern const void special_mapping_name __ksym;

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

SEC("iter/task_vma")
int dump_vma(struct bpf_iter__task_vma *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	__u64 session = ctx->meta->session_id;
	struct walk_pos *pos, next;
	struct scratch_slot *s;
	struct vma_record *r;
	struct file *file;
	__u64 flags, start;

	BPFITER_FRAME(ctx->meta, vma);
	if (!vma) {
		bpf_map_delete_elem(&walk_pos, &session);
		return 0;
	}
	if (!task)
		return 0;
	next.pid = task->tgid;
	next.pad = 0;
	next.end = vma->vm_end;
	start = vma->vm_start;
	pos = bpf_map_lookup_elem(&walk_pos, &session);
	if (pos && pos->pid == next.pid) {
		if (next.end <= pos->end)
			return 0;
		if (start < pos->end)
			start = pos->end;
	}
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	r->pid = next.pid;
	r->start = start;
	r->end = next.end;
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
		r->tail_len = tail_len_from(
			bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	} else {
		r->tail_len = anon_vma_name(vma, s->tail);
	}
	/* Only a record that went out moves the walk on: when the kernel's
	 * buffer is full it shows this mapping again in the next read(). */
	if (BPFITER_EMIT(seq, s) == 0)
		bpf_map_update_elem(&walk_pos, &session, &next, BPF_ANY);
	return 0;
}
