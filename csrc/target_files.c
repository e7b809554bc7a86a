/* files: one record per open fd (task_file iterator). */
#include "target.h"

#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>

#include "attach.h"
#include "file_kind.h"
#include "file_record.h"
#include "file.skel.h"

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
		{ "btf", "btf" },
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

const char *file_kind_of(uint32_t mode, const char *path, size_t len)
{
	/* The name first: pidfs gives pidfds a regular-file i_mode (stat()
	 * hides it), yet readlink says anon_inode:[pidfd]. No real path starts
	 * so: they start with '/'. */
	const char *anon = anon_kind(path, len);

	if (anon)
		return anon;
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFSOCK: return "socket";
	case S_IFIFO:
		return len > 5 && memcmp(path, "pipe:", 5) == 0 ? "pipe" : "fifo";
	}
	return "unknown";
}

static const char *file_kind(const struct file_record *r)
{
	return file_kind_of(r->mode, (const char *)(r + 1), r->tail_len);
}

static void file_derive(lua_State *L, const void *rec)
{
	lua_pushstring(L, file_kind(rec));
	lua_setfield(L, -2, "kind");
}

static const struct option file_options[] = {
	{ "pid", OPT_INTEGER, OPT_KERNEL },
	OPTIONS_END,
};

const struct target target_files = {
	.name = "files", .program = "dump_file",
	.elf_bytes = file_bpf__elf_bytes,
	.record_size = sizeof(struct file_record),
	.fields = file_fields, .options = file_options,
	.attach = attach_task_pid,
	.derive = file_derive, .derived = (const char *const[]){ "kind", NULL },
};
