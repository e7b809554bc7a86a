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

/* Whether fd is the lowest open fd of the task: the iterator walks fds in
 * order, so that is where a process's cwd and root records go. Looks at the
 * first 4,096 fds only: a process whose lowest fd is above that gets them
 * again before each of its fds above 4,095. */
#define FIRST_FD_WORDS 64
static __always_inline bool is_first_fd(struct task_struct *task, __u32 fd)
{
	unsigned long *bits = BPF_CORE_READ(task, files, fdt, open_fds);
	unsigned long word;

	for (__u32 i = 0; i < FIRST_FD_WORDS; i++) {
		if (i > fd / 64)
			break;
		word = 0;
		bpf_probe_read_kernel(&word, sizeof(word), bits + i);
		if (i == fd / 64)
			word &= (1UL << (fd % 64)) - 1;
		if (word)
			return false;
	}
	return true;
}

/* The identity every record has of the file (or directory) it names. */
static __always_inline void fill_inode(struct file_record *r, struct inode *inode,
				       struct vfsmount *mnt)
{
	r->ino = inode->i_ino;
	r->dev = inode->i_sb->s_dev;
	r->mode = inode->i_mode;
	r->rdev = inode->i_rdev;
	r->size = inode->i_size;
	r->mnt_id = BPF_CORE_READ(container_of(mnt, struct mount, mnt), mnt_id);
}

/* A cwd or root record, as lsof's cwd and rtd lines; 0 or < 0 when the
 * stream buffer is full (the kernel then shows this fd again). */
static __always_inline long emit_dir(struct seq_file *seq, struct task_struct *task,
				     struct path *path, __u8 special)
{
	struct scratch_slot *s = scratch_get();
	struct dentry *dentry = path->dentry;
	struct inode *inode;
	struct file_record *r;

	if (!s || !dentry)
		return 0;
	inode = dentry->d_inode;
	if (!inode)
		return 0;
	r = &s->rec;
	r->pid = task->tgid;
	r->special = special;
	fill_inode(r, inode, path->mnt);
	if (BPFITER_WANTS(FILE_WANT_PATH))
		r->tail_len = tail_len_from(bpf_d_path(path, s->tail, BPFITER_TAIL_MAX));
	return BPFITER_EMIT(seq, s);
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
	struct fs_struct *fs;

	BPFITER_FRAME(ctx->meta, file);
	if (!task || !file || shares_leader_files(task))
		return 0;

	fs = task->fs;
	if (fs && is_first_fd(task, ctx->fd)) {
		if (emit_dir(seq, task, &fs->pwd, FILE_CWD) < 0 ||
		    emit_dir(seq, task, &fs->root, FILE_ROOT) < 0)
			return 0;
	}
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	r->pid = task->tgid;
	r->fd = ctx->fd;
	inode = file->f_inode;
	mnt = BPF_CORE_READ(file, f_path.mnt);
	fill_inode(r, inode, mnt);
	r->pos = file->f_pos;
	r->flags = file->f_flags;
	if (fd_is_cloexec(task, ctx->fd))
		r->flags |= O_CLOEXEC;
	if (BPFITER_WANTS(FILE_WANT_PATH))
		r->tail_len = tail_len_from(
			bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	BPFITER_EMIT(seq, s);
	return 0;
}
