#ifndef BPFITER_VMA_RECORD_H
#define BPFITER_VMA_RECORD_H
#include "record_common.h"

/* One per memory mapping of each process. Tail: the last column of
 * /proc/PID/maps (a path, "[heap]", "[stack]", "[vdso]", "[anon:NAME]",
 * or empty for an unnamed anonymous mapping). */
/* bpfiter_want bits: the kernel work of fields a walk may not ask for
 * (csrc/targets/vmas.c names the fields of each). */
#define VMA_WANT_PATH	0x1	/* path: bpf_d_path, or the name of a mapping without a file */

struct vma_record {
	BPFITER_RECORD_HEAD;
	__u32 pid;		/* tgid */
	__u64 start;
	__u64 end;
	__u64 offset;		/* bytes into the file; 0 for anonymous memory */
	__u64 ino;
	__u64 vm_flags;
	__u32 dev;		/* kernel encoding */
	char perms[4];		/* "r-xp" */
};

#endif
