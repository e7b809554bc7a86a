#ifndef BPFITER_FILE_RECORD_H
#define BPFITER_FILE_RECORD_H
#include "record_common.h"

/* One per open fd of each process (threads sharing a table are skipped by
 * the kernel). Tail: the path as readlink(/proc/PID/fd/N) shows it. */
struct file_record {
	BPFITER_RECORD_HEAD;
	__u32 fd;
	__u64 ino;
	__s64 pos;
	__u32 pid;		/* tgid */
	__u32 dev;		/* of the filesystem; kernel encoding: major << 20 | minor */
	__u32 flags;		/* f_flags, plus O_CLOEXEC when set, as fdinfo */
	__u32 mode;		/* inode i_mode */
	__u32 mnt_id;
	__u32 rdev;		/* kernel encoding; device files only */
	__u64 size;		/* inode i_size */
	__u8 special;		/* FILE_FD, or FILE_CWD / FILE_ROOT: the process's
				 * working or root directory, no fd */
	__u8 pad[7];
};

/* bpfiter_want bits: the kernel work of fields a walk may not ask for
 * (csrc/targets/files.c names the fields of each). */
#define FILE_WANT_PATH	0x1	/* path (and kind, made from it): bpf_d_path */

#define FILE_FD 0
#define FILE_CWD 1
#define FILE_ROOT 2

#endif
