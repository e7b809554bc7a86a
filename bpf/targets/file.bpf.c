// SPDX-License-Identifier: GPL-2.0
/* files: one record per open fd, from the task_file iterator. */
#include "iter_common.bpf.h"
#include "file_record.h"

BPFITER_SCRATCH(file_record)
BPFITER_TARGET("files", file_record);

#define O_CLOEXEC 02000000

static __always_inline bool fd_is_cloexec(struct task_struct *task, __u32 fd)
{
	unsigned long *bits = BPF_CORE_READ(task, files, fdt, close_on_exec);
	unsigned long word = 0;

	bpf_probe_read_kernel(&word, sizeof(word), bits + fd / 64);
	return word & (1UL << (fd % 64));
}

SEC("iter/task_file")
int dump_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct scratch_slot *s;
	struct file_record *r;
	struct inode *inode;
	struct vfsmount *mnt;

	BPFITER_FRAME(ctx->meta, file);
	if (!task || !file)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	r->pid = task->tgid;
	r->fd = ctx->fd;
	inode = file->f_inode;
	r->ino = inode->i_ino;
	r->dev = inode->i_sb->s_dev;
	r->mode = inode->i_mode;
	r->rdev = inode->i_rdev;
	r->pos = file->f_pos;
	r->flags = file->f_flags;
	if (fd_is_cloexec(task, ctx->fd))
		r->flags |= O_CLOEXEC;
	mnt = BPF_CORE_READ(file, f_path.mnt);
	r->mnt_id = BPF_CORE_READ(container_of(mnt, struct mount, mnt), mnt_id);
	r->tail_len = tail_len_from(
		bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	BPFITER_EMIT(seq, s);
	return 0;
}
