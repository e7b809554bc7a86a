#ifndef BPFITER_TASK_RECORD_H
#define BPFITER_TASK_RECORD_H
#include "record_common.h"

/* One per thread; written by task.bpf.c, decoded by csrc/targets/tasks.c.
 * Tail: the executable's path (exe_len bytes, none for kernel threads),
 * then the argument area as /proc/PID/cmdline gives it (cmdline_len bytes,
 * NUL-separated, at most TASK_CMDLINE_MAX). */
#define TASK_CMDLINE_MAX 4000

/* bpfiter_want bits: the kernel work of fields a walk may not ask for
 * (csrc/targets/tasks.c names the fields of each). */
#define TASK_WANT_EXE		0x1	/* exe: bpf_d_path */
#define TASK_WANT_CMDLINE	0x2	/* cmdline: a copy of user memory */
#define TASK_WANT_WCHAN		0x4	/* wchan: a stack walk and a symbol lookup */
#define TASK_WANT_NAME		0x8	/* name: a kernel thread's full name */
struct task_record {
	BPFITER_RECORD_HEAD;
	__u32 tid;
	__u64 start_time_ns;	/* since boot, CLOCK_BOOTTIME */
	__u64 utime_ns;		/* kernel's sampled user time, not /proc's adjusted one */
	__u64 stime_ns;
	__u64 runtime_ns;	/* se.sum_exec_runtime: precise CPU time */
	__u64 min_flt;
	__u64 maj_flt;
	__u64 vsize;		/* bytes */
	__u64 rss;		/* bytes, as /proc's approximate counter */
	__u64 cgroup_id;	/* cgroup v2 id (inode of its directory) */
	__u32 tgid;
	__u32 ppid;
	__u32 uid, euid, gid, egid;
	__s32 nice;
	__s32 prio;		/* as /proc/PID/stat field 18 */
	__u32 nr_threads;
	__u32 flags;		/* task->flags (PF_*) */
	__u32 cpu;		/* CPU it last ran on */
	char comm[16];
	char state;		/* one of "RSDTtXZPI" as in /proc */
	__u8 kthread;
	__u16 pad;
	__u32 pgid;		/* process group, as /proc/PID/stat field 5 */
	__u32 sid;		/* session, field 6 */
	__u32 tty;		/* controlling tty, kernel dev_t; 0: none (field 7) */
	__u32 pad2;
	/* As /proc/PID/comm: a kernel thread's full name, a workqueue
	 * worker's comm with its "+desc"/"-desc"; /proc cuts it at 63 too. */
	char name[64];
	/* As /proc/PID/wchan: where a blocked task waits; empty while it runs
	 * (or when kallsyms hides the scheduler's text range, see task.bpf.c).
	 * Symbol names longer than 63 characters are cut. */
	char wchan[64];
	__u16 exe_len;
	__u16 cmdline_len;
	__u8 cmdline_cut;	/* the argument area is longer than TASK_CMDLINE_MAX */
	__u8 pad3[3];
};

#endif
