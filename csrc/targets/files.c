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
	FIELDS_END,
};

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
	OPTION_TASK_PID,
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
	.attach = attach_task_pid,
	.derive = file_derive, .derived = file_derived,
};
