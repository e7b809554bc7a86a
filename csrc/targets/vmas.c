/* vmas: one record per memory mapping (task_vma iterator). */
#include "target.h"

#include "attach.h"
#include "kernel.h"
#include "vma_record.h"
#include "vma.skel.h"
#include "vma_nokfunc.skel.h"

static const struct field vma_fields[] = {
	FIELD(vma_record, pid, F_U32, "pid", "", "process id"),
	FIELD(vma_record, start, F_U64, "start", "", "first address of the mapping"),
	FIELD(vma_record, end, F_U64, "end", "", "address after the mapping (exclusive)"),
	FIELD(vma_record, perms, F_CHARS, "perms", "", "r-xp: read, write, exec, shared or private"),
	FIELD(vma_record, offset, F_U64, "offset", "bytes", "offset into the mapped file (0 for anonymous memory)"),
	FIELD(vma_record, dev, F_DEV, "dev", "", "device of the mapped file's filesystem, as st_dev (0 for anonymous)"),
	FIELD(vma_record, dev, F_MAJOR, "major", "", "major number of dev"),
	FIELD(vma_record, dev, F_MINOR, "minor", "", "minor number of dev"),
	FIELD(vma_record, ino, F_U64, "inode", "", "inode of the mapped file (0 for anonymous)"),
	FIELD(vma_record, tail_len, F_TAIL, "path", "", "last column of /proc/PID/maps: a path, [heap], [stack], ...; nil when unnamed"),
	FIELD(vma_record, vm_flags, F_U64, "vm_flags", "", "the kernel's VM_* flags"),
	FIELDS_END,
};

/* Fields whose kernel work a walk not asking for them skips. */
static const struct kernel_work vma_work[] = {
	WORK("path", VMA_WANT_PATH),
	WORK_END,
};

static const struct option vma_options[] = {
	OPTION_TASK_PID,
	OPTIONS_END,
};

static bool have_vma_kfuncs(void)
{
	return kernel_has_function("bpf_iter_task_vma_new") &&
	       kernel_has_function("bpf_task_from_pid");
}

/* Kernels without the vma iterator kfuncs get the program without their
 * externs (bpf/targets/vma_nokfunc.bpf.c, see cgroup.bpf.c). */
static const void *vma_elf_bytes(size_t *size)
{
	return have_vma_kfuncs() ? vma_bpf__elf_bytes(size) : vma_nokfunc_bpf__elf_bytes(size);
}

static int vma_prepare(struct bpf_object *obj)
{
	struct vma_bpf__rodata ro;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	ro.have_task_vma_iter = have_vma_kfuncs();
	return rodata_set(obj, &ro, sizeof(ro));
}

const struct target target_vmas = {
	.name = "vmas", .help = "one record per memory mapping, as /proc/PID/maps",
	.program = "dump_vma",
	.elf_bytes = vma_elf_bytes,
	.record_size = sizeof(struct vma_record),
	.fields = vma_fields, .options = vma_options,
	.kernel_work = vma_work,
	.prepare = vma_prepare,
	.attach = attach_task_pid,
	.kallsyms = true,	/* special_mapping_name names [vdso], [vvar] */
};

#ifdef BPFITER_EXPERIMENTS
/* The open-coded walk (bpf/targets/vma_open.bpf.c), only in the core of
 * build/exp, for bench/vmas_open.lua and spec 03: per walk it costs less CPU,
 * but its ring buffer keeps it out of the program cache and out of pinned
 * views (README, Benchmarks). */
#include "vma_open.skel.h"

const struct target target_vmas_open = {
	.name = "vmas_open", .help = "vmas, walked with the open-coded vma iterator (an experiment)",
	.program = "dump_vma_open",
	.elf_bytes = vma_open_bpf__elf_bytes,
	.record_size = sizeof(struct vma_record),
	.fields = vma_fields, .options = vma_options,
	.attach = attach_task_pid,
	.kallsyms = true,
	.ring = true,
	.min_kernel = KERNEL_VERSION(6, 7), .min_kernel_needs = "the vma iterator kfuncs",
};
#endif
