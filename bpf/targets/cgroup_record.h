#ifndef BPFITER_CGROUP_RECORD_H
#define BPFITER_CGROUP_RECORD_H
#include "record_common.h"

/* One per cgroup; written by cgroup.bpf.c, decoded by csrc/targets/cgroups.c.
 * Tail: the path within its hierarchy ("/" for the hierarchy's root), as
 * /proc/PID/cgroup shows it. Kept small: the kernel's cgroup iterator hands
 * over one buffer (32 KiB) per walk, so bytes per record bound the walk. */
struct cgroup_record {
	BPFITER_RECORD_HEAD;
	__u32 level;			/* 0 for a hierarchy's root */
	__u64 id;			/* kernfs id = inode of the directory */
	__u64 parent_id;		/* 0 for a hierarchy's root */
	__u32 nr_tasks;			/* threads in this cgroup itself (cgroup.threads) */
	__u32 nr_procs;			/* processes (cgroup.procs) */
	/* nr_tasks and nr_procs are CGROUP_COUNT_UNKNOWN on kernels without
	 * the css_task kfuncs (before 6.7) */
	__u32 nr_descendants;		/* live descendants (cgroup.stat) */
	__u32 nr_dying_descendants;	/* removed but not yet freed (cgroup.stat) */
	__u32 hierarchy_id;		/* 0: cgroup v2; first column of /proc/PID/cgroup */
	__u8 populated;			/* tasks in it or below (cgroup.events) */
	__u8 frozen;			/* v2 freezer: cgroup.events "frozen" */
	__u8 threaded;			/* cgroup.type "threaded" */
	__u8 pad;
};

#define CGROUP_COUNT_UNKNOWN 0xffffffffu

#endif
