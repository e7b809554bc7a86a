// SPDX-License-Identifier: GPL-2.0
/* Run-queue wait per cgroup v2: the time from a task becoming runnable
 * (woken, new, or preempted while still runnable) to it being switched in,
 * as a log2 histogram per cgroup. The same intervals the scheduler adds to
 * /proc/PID/schedstat's run_delay. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cpu_wait_record.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0
#define E2BIG 7

/* pid -> when it became runnable (ns, CLOCK_MONOTONIC) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_WAIT_MAX_QUEUED);
	__type(key, __u32);
	__type(value, __u64);
} queued SEC(".maps");

/* cgroup v2 id -> histogram. Per CPU: no atomics on the scheduler's path.
 * Not preallocated: most of the entries are never used. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CPU_WAIT_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct cpu_wait_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_WAIT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static const struct cpu_wait_hist empty;

static __always_inline void count_dropped(void)
{
	__u32 key = CPU_WAIT_DROPPED;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);

	if (n)
		(*n)++;
}

/* A wakeup of a task already queued (woken again before it ran) keeps the
 * first timestamp, as the scheduler's own accounting does. since = 0: queued
 * with no wait counted (see cpu_wait_switch). */
static __always_inline void queue(struct task_struct *p, __u64 since, __u64 flags)
{
	__u32 pid = p->pid;

	if (!pid)
		return;
	if (bpf_map_update_elem(&queued, &pid, &since, flags) == -E2BIG)
		count_dropped();
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(cpu_wait_wakeup, struct task_struct *p)
{
	queue(p, bpf_ktime_get_ns(), BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(cpu_wait_wakeup_new, struct task_struct *p)
{
	queue(p, bpf_ktime_get_ns(), BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cpu_wait_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = prev->pid, slot;
	struct cpu_wait_hist *h;
	__u64 now, *since, wait, cgid;

	/* Still runnable (preempted, or yielded): it waits again from now.
	 * Going to sleep: it waits from its next wakeup. Preempted after
	 * setting a sleep state, before schedule(): it stays queued (only
	 * !preempt dequeues) and its next switch-in may come without a
	 * wakeup; the scheduler counts that switch-in with no delay
	 * (sched_info_depart queues only TASK_RUNNING tasks, ttwu_runnable
	 * does not queue), and so does this. */
	if (pid) {
		if (prev->__state == TASK_RUNNING)
			queue(prev, bpf_ktime_get_ns(), BPF_ANY);
		else if (preempt)
			queue(prev, 0, BPF_ANY);
		else
			bpf_map_delete_elem(&queued, &pid);
	}

	pid = next->pid;
	if (!pid)
		return 0;
	since = bpf_map_lookup_elem(&queued, &pid);
	if (!since)
		return 0;
	now = bpf_ktime_get_ns();
	wait = *since && now > *since ? now - *since : 0;
	bpf_map_delete_elem(&queued, &pid);

	cgid = next->cgroups->dfl_cgrp->kn->id;
	h = bpf_map_lookup_elem(&hists, &cgid);
	if (!h) {
		bpf_map_update_elem(&hists, &cgid, &empty, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &cgid);
		if (!h) {
			count_dropped();
			return 0;
		}
	}
	h->count++;
	h->total_ns += wait;
	if (wait > h->max_ns)
		h->max_ns = wait;
	slot = log2_slot(wait);
	/* The mask on the final value, kept from the compiler: it knew slot <
	 * 64 and masked only the last term, which 6.1's verifier could not
	 * follow ("R0 unbounded memory access"). */
	asm volatile("" : "+r"(slot));
	h->slots[slot & (CPU_WAIT_SLOTS - 1)]++;
	return 0;
}
