#ifndef BPFITER_CPU_WAIT_RECORD_H
#define BPFITER_CPU_WAIT_RECORD_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per-cgroup run-queue wait, kept per CPU by cpu_wait.bpf.c and summed by
 * csrc/collectors/cpu_wait.c. slots[k] counts waits of [2^k, 2^(k+1)) ns (slot 0 also
 * takes 0 ns). Not an iterator record: it lives in a BPF hash map. */
#define CPU_WAIT_SLOTS 64
#define CPU_WAIT_MAX_CGROUPS 4096	/* cgroups with samples; more are dropped */
#define CPU_WAIT_MAX_QUEUED 16384	/* tasks runnable but not running at once */

struct cpu_wait_hist {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 slots[CPU_WAIT_SLOTS];
};

/* Indexes of the per-CPU `counters` array. */
#define CPU_WAIT_DROPPED 0	/* samples lost: a map was full */
#define CPU_WAIT_NCOUNTERS 1

#endif
