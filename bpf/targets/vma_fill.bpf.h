/* The record of one memory mapping, shared by the task_vma walk
 * (vma.bpf.c) and the open-coded one (vma_open.bpf.c). Include after
 * BPFITER_SCRATCH(vma_record). */
#ifndef BPFITER_VMA_FILL_BPF_H
#define BPFITER_VMA_FILL_BPF_H

/* The vma iterator kfuncs (6.7) and their state as 6.7 defines it (older
 * kernels' BTF has no such type); weak, so a program that does not reach
 * them on older kernels still loads there. */
struct bpf_iter_task_vma___local {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

/* Not in vma_nokfunc.bpf.c, for kernels without them (see cgroup.bpf.c) */
#ifndef BPFITER_NO_KFUNC_ITERS
extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma___local *it, struct task_struct *task,
				 __u64 addr) __ksym __weak;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma___local *it) __ksym __weak;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma___local *it) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
#endif

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

/* The record of vma from address start on (start >= vm_start) in the
 * scratch slot, which it returns (NULL only when there is none). file is
 * vma->vm_file, read by the caller from a pointer bpf_d_path accepts:
 * vma itself may be a read-only view (vma_open.bpf.c says why). */
/* From 6.8 a mapping of a file on overlayfs (or FUSE passthrough) holds
 * the file of the layer below, embedded in a struct backing_file beside
 * the path the process opened (user_path), and /proc/PID/maps shows that
 * path's inode (file_user_inode()): device and inode are taken from there.
 * The path stays the one bpf_d_path gives for the file itself (it takes
 * only a trusted path): the layer below's. FMODE_BACKING is a macro, 1 <<
 * 25 until 6.13 and 1 << 24 from 6.14 and in later 6.12 stables (Debian's
 * 6.12.117), where 1 << 25 means something else; so either bit only makes
 * a candidate, taken when its user_path is on overlayfs or FUSE (past the
 * struct file of a file that is not one, the probe reads find no such
 * superblock). Before 6.8 /proc showed the file's own inode. */
struct backing_file___user {
	struct path user_path;
} __attribute__((preserve_access_index));
extern int LINUX_KERNEL_VERSION __kconfig;
#define FMODE_BACKING_BITS ((1U << 24) | (1U << 25))
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define FUSE_SUPER_MAGIC 0x65735546

static __always_inline void overlay_user_inode(struct file *file, struct vma_record *r)
{
#ifndef BPFITER_NO_KFUNC_ITERS
	/* not in the variant for kernels before 6.7: libbpf would look for
	 * struct backing_file (6.6+) in module BTF too, which only
	 * CAP_SYS_ADMIN may list there */
	struct backing_file___user *bf = (void *)file;
	struct dentry *d;
	unsigned long magic;

	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(6, 8, 0) ||
	    !bpf_core_type_exists(struct backing_file___user) || !(file->f_mode & FMODE_BACKING_BITS))
		return;
	d = BPF_CORE_READ(bf, user_path.dentry);
	magic = d ? BPF_CORE_READ(d, d_sb, s_magic) : 0;
	if (magic != OVERLAYFS_SUPER_MAGIC && magic != FUSE_SUPER_MAGIC)
		return;
	r->ino = BPF_CORE_READ(d, d_inode, i_ino);
	r->dev = BPF_CORE_READ(d, d_sb, s_dev);
#endif
}

static __always_inline struct scratch_slot *fill_vma(__u32 pid, struct vm_area_struct *vma,
						     struct file *file, __u64 start)
{
	struct scratch_slot *s = scratch_get();
	struct vma_record *r;
	__u64 flags;

	if (!s)
		return NULL;
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

	if (file) {
		struct inode *inode = file->f_inode;
		r->offset = (vma->vm_pgoff << PAGE_SHIFT) + (start - vma->vm_start);
		r->ino = inode->i_ino;
		r->dev = inode->i_sb->s_dev;
		overlay_user_inode(file, r);
		if (BPFITER_WANTS(VMA_WANT_PATH))
			r->tail_len = tail_len_from(
				bpf_d_path((struct path *)&file->f_path, s->tail, BPFITER_TAIL_MAX));
	} else if (BPFITER_WANTS(VMA_WANT_PATH)) {
		r->tail_len = anon_vma_name(vma, s->tail);
	}
	return s;
}

#endif
