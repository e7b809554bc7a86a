/* tasks: one record per thread (task iterator). */
#include "target.h"

#include <lauxlib.h>

#include "attach.h"
#include "options.h"
#include "task_record.h"
#include "task.skel.h"

static const struct field task_fields[] = {
	FIELD(task_record, tid, F_U32, "pid", "", "thread id (tid), as /proc/PID/task/TID"),
	FIELD(task_record, tgid, F_U32, "tgid", "", "process id (thread-group id)"),
	FIELD(task_record, ppid, F_U32, "ppid", "", "parent's process id (0 for kthreadd)"),
	FIELD(task_record, comm, F_CHARS, "comm", "", "thread name, at most 15 characters"),
	FIELD(task_record, state, F_CHAR, "state", "", "one letter of RSDTtXZPI, as /proc/PID/stat's state"),
	FIELD(task_record, uid, F_U32, "uid", "", "real user id"),
	FIELD(task_record, euid, F_U32, "euid", "", "effective user id"),
	FIELD(task_record, gid, F_U32, "gid", "", "real group id"),
	FIELD(task_record, egid, F_U32, "egid", "", "effective group id"),
	FIELD(task_record, nice, F_S32, "nice", "", "nice value, -20..19"),
	FIELD(task_record, prio, F_S32, "prio", "", "priority as /proc/PID/stat field 18 (prio - 100)"),
	FIELD(task_record, start_time_ns, F_U64, "start_time_ns", "ns", "start time since boot (CLOCK_BOOTTIME)"),
	FIELD(task_record, utime_ns, F_U64, "utime_ns", "ns", "user CPU time as the kernel sampled it"),
	FIELD(task_record, stime_ns, F_U64, "stime_ns", "ns", "system CPU time as the kernel sampled it"),
	FIELD(task_record, runtime_ns, F_U64, "runtime_ns", "ns", "precise CPU time (se.sum_exec_runtime)"),
	FIELD(task_record, min_flt, F_U64, "min_flt", "count", "minor page faults of this thread"),
	FIELD(task_record, maj_flt, F_U64, "maj_flt", "count", "major page faults of this thread"),
	FIELD(task_record, nr_threads, F_U32, "nr_threads", "count", "threads in the process"),
	FIELD(task_record, vsize, F_U64, "vsize", "bytes", "virtual memory size"),
	FIELD(task_record, rss, F_U64, "rss", "bytes", "resident set size, the approximate counter /proc reads"),
	FIELD(task_record, cgroup_id, F_U64, "cgroup_id", "", "cgroup v2 id (inode of its directory)"),
	FIELD(task_record, cpu, F_U32, "cpu", "", "CPU it last ran on"),
	FIELD(task_record, flags, F_U32, "flags", "", "PF_* task flags"),
	FIELD(task_record, kthread, F_BOOL, "kthread", "", "true for a kernel thread"),
	FIELD(task_record, tail_len, F_TAIL, "exe", "", "executable path as readlink /proc/PID/exe; nil for kernel threads"),
	FIELDS_END,
};

struct task_filter {
	bool threads;
};

static void task_filter_init(lua_State *L, int opts, void *filter)
{
	((struct task_filter *)filter)->threads = option_boolean(L, opts, "threads", true);
}

/* The task iterator visits every thread; threads = false keeps the group
 * leaders. */
static bool task_skip(const void *rec, const void *filter)
{
	const struct task_record *r = rec;

	return !((const struct task_filter *)filter)->threads && r->tid != r->tgid;
}

static const struct option task_options[] = {
	OPTION_TASK_PID,
	{ .name = "threads", .type = OPT_BOOLEAN, .scope = OPT_READER,
	  .help = "every thread (default true); false: one record per process, its leader" },
	OPTIONS_END,
};

const struct target target_tasks = {
	.name = "tasks", .help = "one record per thread (threads = false: per process)",
	.program = "dump_task",
	.elf_bytes = task_bpf__elf_bytes,
	.record_size = sizeof(struct task_record),
	.fields = task_fields, .options = task_options,
	.attach = attach_task_pid,
	.filter_size = sizeof(struct task_filter),
	.filter_init = task_filter_init, .skip = task_skip,
};
