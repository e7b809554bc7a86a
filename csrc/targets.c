/* The table of iterator targets: which program, which record, how each
 * record field becomes a Lua field. */
#include "target.h"

#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>

#include "task_record.h"
#include "file_record.h"
#include "vma_record.h"
#include "task.skel.h"
#include "file.skel.h"
#include "vma.skel.h"

/* ---- tasks ---- */

static const struct field task_fields[] = {
	FIELD(task_record, tid, F_U32, "pid"),
	FIELD(task_record, tgid, F_U32, "tgid"),
	FIELD(task_record, ppid, F_U32, "ppid"),
	FIELD(task_record, comm, F_CHARS, "comm"),
	FIELD(task_record, state, F_CHAR, "state"),
	FIELD(task_record, uid, F_U32, "uid"),
	FIELD(task_record, euid, F_U32, "euid"),
	FIELD(task_record, gid, F_U32, "gid"),
	FIELD(task_record, egid, F_U32, "egid"),
	FIELD(task_record, nice, F_S32, "nice"),
	FIELD(task_record, prio, F_S32, "prio"),
	FIELD(task_record, start_time_ns, F_U64, "start_time_ns"),
	FIELD(task_record, utime_ns, F_U64, "utime_ns"),
	FIELD(task_record, stime_ns, F_U64, "stime_ns"),
	FIELD(task_record, runtime_ns, F_U64, "runtime_ns"),
	FIELD(task_record, min_flt, F_U64, "min_flt"),
	FIELD(task_record, maj_flt, F_U64, "maj_flt"),
	FIELD(task_record, nr_threads, F_U32, "nr_threads"),
	FIELD(task_record, vsize, F_U64, "vsize"),
	FIELD(task_record, rss, F_U64, "rss"),
	FIELD(task_record, cgroup_id, F_U64, "cgroup_id"),
	FIELD(task_record, cpu, F_U32, "cpu"),
	FIELD(task_record, flags, F_U32, "flags"),
	FIELD(task_record, kthread, F_BOOL, "kthread"),
	FIELD(task_record, tail_len, F_TAIL, "exe"),
	FIELDS_END,
};

static bool task_skip(const void *rec, const struct iter_options *opts)
{
	const struct task_record *r = rec;

	return !opts->threads && r->tid != r->tgid;
}

/* ---- files ---- */

static const struct field file_fields[] = {
	FIELD(file_record, pid, F_U32, "pid"),
	FIELD(file_record, fd, F_U32, "fd"),
	FIELD(file_record, tail_len, F_TAIL, "path"),
	FIELD(file_record, ino, F_U64, "inode"),
	FIELD(file_record, dev, F_DEV, "dev"),
	FIELD(file_record, dev, F_MAJOR, "major"),
	FIELD(file_record, dev, F_MINOR, "minor"),
	FIELD(file_record, rdev, F_DEV, "rdev"),
	FIELD(file_record, mode, F_U32, "mode"),
	FIELD(file_record, flags, F_U32, "flags"),
	FIELD(file_record, pos, F_S64, "pos"),
	FIELD(file_record, mnt_id, F_U32, "mnt_id"),
	FIELDS_END,
};

/* Anonymous inodes have no file type bits; their name tells what they are. */
static const char *anon_kind(const char *path, size_t len)
{
	static const struct { const char *name, *kind; } kinds[] = {
		{ "[eventpoll]", "epoll" }, { "[eventfd]", "eventfd" },
		{ "[timerfd]", "timerfd" }, { "[signalfd]", "signalfd" },
		{ "[pidfd]", "pidfd" }, { "inotify", "inotify" },
		{ "[fanotify]", "fanotify" }, { "[io_uring]", "io_uring" },
		{ "[perf_event]", "perf_event" }, { "bpf-map", "bpf-map" },
		{ "bpf-prog", "bpf-prog" }, { "bpf_link", "bpf-link" },
		{ "bpf_iter", "bpf-iter" }, { "[userfaultfd]", "userfaultfd" },
	};
	static const char prefix[] = "anon_inode:";
	size_t plen = sizeof(prefix) - 1;

	if (len <= plen || memcmp(path, prefix, plen) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (len - plen == strlen(kinds[i].name) &&
		    memcmp(path + plen, kinds[i].name, len - plen) == 0)
			return kinds[i].kind;
	return "anon";
}

static const char *file_kind(const struct file_record *r)
{
	const char *path = (const char *)(r + 1);

	switch (r->mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFSOCK: return "socket";
	case S_IFIFO:
		return r->tail_len > 5 && memcmp(path, "pipe:", 5) == 0 ? "pipe" : "fifo";
	}
	const char *anon = anon_kind(path, r->tail_len);
	return anon ? anon : "unknown";
}

static void file_derive(lua_State *L, const void *rec)
{
	lua_pushstring(L, file_kind(rec));
	lua_setfield(L, -2, "kind");
}

/* ---- vmas ---- */

static const struct field vma_fields[] = {
	FIELD(vma_record, pid, F_U32, "pid"),
	FIELD(vma_record, start, F_U64, "start"),
	FIELD(vma_record, end, F_U64, "end"),
	FIELD(vma_record, perms, F_CHARS, "perms"),
	FIELD(vma_record, offset, F_U64, "offset"),
	FIELD(vma_record, dev, F_DEV, "dev"),
	FIELD(vma_record, dev, F_MAJOR, "major"),
	FIELD(vma_record, dev, F_MINOR, "minor"),
	FIELD(vma_record, ino, F_U64, "inode"),
	FIELD(vma_record, tail_len, F_TAIL, "path"),
	FIELD(vma_record, vm_flags, F_U64, "vm_flags"),
	FIELDS_END,
};

/* ---- the table ---- */

const struct target bpfiter_targets[] = {
	{
		.name = "tasks", .program = "dump_task",
		.elf_bytes = task_bpf__elf_bytes,
		.record_size = sizeof(struct task_record),
		.fields = task_fields, .options = OPT_PID | OPT_THREADS,
		.skip = task_skip,
	},
	{
		.name = "files", .program = "dump_file",
		.elf_bytes = file_bpf__elf_bytes,
		.record_size = sizeof(struct file_record),
		.fields = file_fields, .options = OPT_PID,
		.derive = file_derive,
	},
	{
		.name = "vmas", .program = "dump_vma",
		.elf_bytes = vma_bpf__elf_bytes,
		.record_size = sizeof(struct vma_record),
		.fields = vma_fields, .options = OPT_PID,
	},
};

const size_t bpfiter_ntargets = sizeof(bpfiter_targets) / sizeof(bpfiter_targets[0]);
