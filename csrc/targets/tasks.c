/* tasks: one record per thread (task iterator). */
#include "target.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <lauxlib.h>

#include "attach.h"
#include "options.h"
#include "task_record.h"
#include "task.skel.h"
#include "task_nosleep.skel.h"

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
	FIELD(task_record, exe_len, F_TAIL, "exe", "", "executable path as readlink /proc/PID/exe; nil for kernel threads"),
	FIELD(task_record, name, F_CHARS, "name", "", "full thread name as /proc/PID/task/TID/comm (kernel threads: kworker/R-rcu_gp, ...)"),
	FIELD(task_record, pgid, F_U32, "pgid", "", "process group id"),
	FIELD(task_record, sid, F_U32, "sid", "", "session id"),
	FIELD(task_record, tty, F_DEV, "tty", "", "controlling terminal's device number (/proc/PID/stat tty_nr), 0 for none"),
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

/* The sleepable task program (cmdline) needs bpf_rcu_read_lock(), a kfunc
 * since Linux 6.2; older kernels get the same program without cmdline
 * (bpf/targets/task_nosleep.bpf.c). The release decides: reading the
 * kernel's BTF to look for the kfunc costs tens of ms per process. */
static const void *task_elf_bytes(size_t *size)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	if (major > 6 || (major == 6 && minor >= 2))
		return task_bpf__elf_bytes(size);
	return task_nosleep_bpf__elf_bytes(size);
}

/* The wall-clock time of boot, from the same two clocks the start time
 * comes from (CLOCK_BOOTTIME counts suspend, as start_boottime does). /proc's
 * btime is this rounded to a second; ps adds start ticks to it. */
static double boot_wall_time(void)
{
	struct timespec real, boot;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (double)(real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) / 1e9;
}

/* /proc/PID/cmdline as a Lua array: one string per NUL-terminated
 * argument; the last may lack its NUL when the area was cut (then
 * cmdline_truncated is true) or the process rewrote it. Kernel threads and
 * exited processes have none (nil), as /proc's empty file. */
static void push_cmdline(lua_State *L, const struct task_record *r)
{
	const char *p = (const char *)(r + 1) + r->exe_len, *end = p + r->cmdline_len;
	int n = 0;

	if (!r->cmdline_len || r->exe_len + r->cmdline_len > r->tail_len)
		return;
	lua_createtable(L, 4, 0);
	while (p < end) {
		const char *nul = memchr(p, '\0', end - p);
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);

		lua_pushlstring(L, p, len);
		lua_rawseti(L, -2, ++n);
		p += len + 1;
	}
	lua_setfield(L, -2, "cmdline");
	if (r->cmdline_cut) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "cmdline_truncated");
	}
}

static void task_derive(lua_State *L, const void *rec)
{
	const struct task_record *r = rec;

	push_cmdline(L, r);

	lua_pushnumber(L, boot_wall_time() + r->start_time_ns / 1e9);
	lua_setfield(L, -2, "start_time");
	if (r->wchan[0]) {
		lua_pushlstring(L, r->wchan, strnlen(r->wchan, sizeof(r->wchan)));
		lua_setfield(L, -2, "wchan");
	}
}

static const struct derived_field task_derived[] = {
	DERIVED("cmdline", "string[]?", "", "argv as /proc/PID/cmdline, cut at 4,000 bytes; nil for kernel threads"),
	DERIVED("cmdline_truncated", "boolean?", "", "true when cmdline was cut"),
	DERIVED("start_time", "number", "", "start as wall-clock seconds since the epoch (boot time + start_time_ns)"),
	DERIVED("wchan", "string?", "", "where it sleeps, as /proc/PID/wchan; nil while running or without CAP_SYSLOG"),
	DERIVED_END,
};

/* Fields whose kernel work a walk not asking for them skips (measured per
 * record with bpf_stats: wchan's stack walk and %ps lookup is most of a
 * full record's cost). */
static const struct kernel_work task_work[] = {
	WORK("exe", TASK_WANT_EXE),
	WORK("cmdline", TASK_WANT_CMDLINE),
	WORK("cmdline_truncated", TASK_WANT_CMDLINE),
	WORK("wchan", TASK_WANT_WCHAN),
	WORK("name", TASK_WANT_NAME),
	WORK_END,
};

static const struct option task_options[] = {
	OPTION_TASK_PID,
	{ .name = "threads", .type = OPT_BOOLEAN, .scope = OPT_READER,
	  .help = "every thread (default true); false: one record per process, its leader" },
	OPTIONS_END,
};

const struct target target_tasks = {
	.name = "tasks", .help = "one record per thread (threads = false: per process)",
	.program = "dump_task",
	.elf_bytes = task_elf_bytes,
	.record_size = sizeof(struct task_record),
	.fields = task_fields, .options = task_options,
	.kernel_work = task_work,
	.attach = attach_task_pid,
	.filter_size = sizeof(struct task_filter),
	.filter_init = task_filter_init, .skip = task_skip,
	.derive = task_derive, .derived = task_derived,
};
