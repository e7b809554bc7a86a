/* files: one record per open fd (task_file iterator). */
#include "target.h"

#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>

#include "attach.h"
#include "options.h"
#include "file_kind.h"
#include "file_record.h"
#include "file.skel.h"

static const struct field file_fields[] = {
	FIELD(file_record, pid, F_U32, "pid", "", "process id"),
	FIELD(file_record, fd, F_U32, "fd", "", "fd number"),
	FIELD(file_record, tail_len, F_TAIL, "path", "", "what readlink /proc/PID/fd/N shows: a path, pipe:[ino], socket:[ino], ..."),
	FIELD(file_record, ino, F_U64, "inode", "", "inode number (stat st_ino)"),
	FIELD(file_record, dev, F_DEV, "dev", "", "the filesystem's device, encoded as stat st_dev"),
	FIELD(file_record, dev, F_MAJOR, "major", "", "major number of the filesystem's device"),
	FIELD(file_record, dev, F_MINOR, "minor", "", "minor number of the filesystem's device"),
	FIELD(file_record, rdev, F_DEV, "rdev", "", "for device files the device itself (st_rdev); 0 otherwise"),
	FIELD(file_record, mode, F_U32, "mode", "", "i_mode: file type and permission bits"),
	FIELD(file_record, flags, F_U32, "flags", "", "open flags (O_*), O_CLOEXEC included, as fdinfo flags:"),
	FIELD(file_record, pos, F_S64, "pos", "bytes", "file position (fdinfo pos:)"),
	FIELD(file_record, mnt_id, F_U32, "mnt_id", "", "mount id (fdinfo mnt_id:)"),
	FIELD(file_record, size, F_U64, "size", "bytes", "file size (stat st_size)"),
	FIELDS_END,
};

/* Fields whose kernel work a walk not asking for them skips. kind tells
 * anon_inode:[eventfd] from anon_inode:[eventpoll] by the path. */
static const struct kernel_work file_work[] = {
	WORK("path", FILE_WANT_PATH),
	WORK("kind", FILE_WANT_PATH),
	WORK_END,
};

static const char *file_kind(const struct file_record *r)
{
	return file_kind_of(r->mode, (const char *)(r + 1), r->tail_len);
}

/* A cwd or root record names a directory, not an fd: kind says which, fd
 * and the fd's own fields (pos, flags) are nil. */
static void file_derive(lua_State *L, const void *rec)
{
	const struct file_record *r = rec;
	static const char *const special[] = { [FILE_CWD] = "cwd", [FILE_ROOT] = "root" };

	if (r->special == FILE_CWD || r->special == FILE_ROOT) {
		lua_pushstring(L, special[r->special]);
		lua_setfield(L, -2, "kind");
		for (const char *const *k = (const char *const[]){ "fd", "pos", "flags", NULL }; *k; k++) {
			lua_pushnil(L);
			lua_setfield(L, -2, *k);
		}
		return;
	}
	lua_pushstring(L, file_kind(rec));
	lua_setfield(L, -2, "kind");
}

struct file_filter {
	bool dirs;
};

static void file_filter_init(lua_State *L, int opts, void *filter)
{
	((struct file_filter *)filter)->dirs = option_boolean(L, opts, "dirs", 0);
}

/* The program always writes the cwd and root records (two per process,
 * cheap); they are fd-less, so a walk gives them only when asked. */
static bool file_skip(const void *rec, const void *filter)
{
	const struct file_record *r = rec;

	return r->special != FILE_FD && !((const struct file_filter *)filter)->dirs;
}

static const struct option file_options[] = {
	OPTION_TASK_PID,
	{ .name = "dirs", .type = OPT_BOOLEAN, .scope = OPT_READER,
	  .help = "also the process's cwd and root, as records of kind cwd and root (fd nil); default false" },
	OPTIONS_END,
};

static const struct derived_field file_derived[] = {
	DERIVED("kind", "string", "", "file, dir, socket, pipe, epoll, eventfd, bpf-map, ... (see README)"),
	DERIVED_END,
};

const struct target target_files = {
	.name = "files", .help = "one record per open fd of every process (or of one)",
	.program = "dump_file",
	.elf_bytes = file_bpf__elf_bytes,
	.record_size = sizeof(struct file_record),
	.fields = file_fields, .options = file_options,
	.kernel_work = file_work,
	.attach = attach_task_pid,
	.filter_size = sizeof(struct file_filter),
	.filter_init = file_filter_init, .skip = file_skip,
	.derive = file_derive, .derived = file_derived,
	.derive_rewrites = true,	/* fd, pos, flags of cwd and root records */
};
