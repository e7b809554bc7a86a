// SPDX-License-Identifier: GPL-2.0
/* vmas: one record per memory mapping, from the task_vma iterator. */
#include "iter_common.bpf.h"
#include "vma_record.h"

BPFITER_SCRATCH(vma_record)
BPFITER_TARGET("vmas", vma_record);

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
	struct scratch_slot *s;
	struct vma_record *r;
	struct file *file;
	__u64 flags;

	BPFITER_FRAME(ctx->meta, vma);
	if (!task || !vma)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	r->pid = task->tgid;
	r->start = vma->vm_start;
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
		r->offset = vma->vm_pgoff << PAGE_SHIFT;
		r->ino = inode->i_ino;
		r->dev = inode->i_sb->s_dev;
		r->tail_len = tail_len_from(
			bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	} else {
		r->tail_len = anon_vma_name(vma, s->tail);
	}
	BPFITER_EMIT(seq, s);
	return 0;
}
