/* Pinned views: an iterator link pinned in bpffs, readable by any user the
 * file mode lets in, without BPF privileges. Reading runs the program with
 * the pinner's privileges; the file mode is the only access control. */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <lauxlib.h>
#include <bpf/bpf.h>

#include "errors.h"
#include "fds.h"
#include "iterator.h"
#include "options.h"
#include "stream.h"

#define BPF_FS_MAGIC 0xcafe4a11

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC;
}

/* pin(target, path [, options [, mode]]) -> true | nil, message, errno */
static int view_pin(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *path = luaL_checkstring(L, 2);
	const struct target *t = target_named(name);
	lua_Integer mode = 0600;
	char dir[PATH_MAX];
	int link_fd, err;

	if (!t)
		return bpfiter_argerror(L, 1, "unknown target '%s'", name);
	if (t->ring)	/* a view's readers could not reach the ring */
		return bpfiter_fail(L, ENOTSUP, "pin", "%s cannot be pinned: its records "
				    "travel through a ring buffer only the loading process reads",
				    name);
	lua_settop(L, 4);
	options_check(L, t, 3, OPT_KERNEL);
	/* Lua has no octal literals: "0640" (a string) or 416 (tonumber("640", 8)). */
	if (lua_type(L, 4) == LUA_TSTRING) {
		char *end;
		mode = strtol(lua_tostring(L, 4), &end, 8);
		if (*end || end == lua_tostring(L, 4))
			mode = -1;
	} else if (!lua_isnoneornil(L, 4)) {
		mode = luaL_checkinteger(L, 4);
	}
	if (mode < 0 || mode > 0777)
		return bpfiter_argerror(L, 4, "mode must be an octal string like \"0640\" or "
					"an integer up to 511");
	snprintf(dir, sizeof(dir), "%s", path);
	if (!on_bpffs(dirname(dir)))
		return bpfiter_fail(L, ENOTSUP, "pin",
				    "%s is not on a bpffs mount (mount one first, e.g. "
				    "'mount -t bpf bpf /sys/fs/bpf')", path);
	link_fd = iterator_create_link(L, t, 3, NULL);
	if (link_fd < 0)
		return 3;
	if (bpf_obj_pin(link_fd, path)) {
		err = errno;
		close(link_fd);
		return bpfiter_fail(L, err, "pin", "%s", path);
	}
	close(link_fd);		/* the pin holds the link now */
	if (chmod(path, (mode_t)mode)) {
		err = errno;
		unlink(path);
		return bpfiter_fail(L, err, "pin", "chmod %s", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* unpin(path) -> true | nil, message, errno. Only removes bpffs files. */
static int view_unpin(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	struct stat st;

	if (lstat(path, &st))
		return bpfiter_fail(L, errno, "unpin", "%s", path);
	if (!on_bpffs(path))
		return bpfiter_fail(L, EINVAL, "unpin", "%s is not a pin in bpffs", path);
	if (unlink(path))
		return bpfiter_fail(L, errno, "unpin", "%s", path);
	lua_pushboolean(L, 1);
	return 1;
}

/* What the file at path is, for a refusal: "a fifo"... */
static const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a fifo";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	}
	return "not a regular file";
}

/* open() reads a pinned iterator link on bpffs or a regular file (a saved
 * stream). That is decided on an O_PATH fd, before anything opens the file
 * for reading: opening a FIFO blocks, opening a device can act. The file
 * is then opened through that fd, so it is the same file, non-blocking: a
 * regular file that would block (/proc/kmsg) fails instead of waiting.
 * Returns the fd, or pushes the failure triple and returns -1. */
static int open_view_fd(lua_State *L, const char *path)
{
	struct stat st;
	struct statfs fs;
	char self[64];
	bool bpffs;
	int pfd, fd, err;

	RETRY_AFTER_GC(L, pfd, open(path, O_PATH | O_CLOEXEC));
	if (pfd < 0)
		return bpfiter_fail(L, errno, "open", "%s", path), -1;
	if (fstat(pfd, &st) || fstatfs(pfd, &fs)) {
		err = errno;
		close(pfd);
		return bpfiter_fail(L, err, "open", "%s", path), -1;
	}
	bpffs = (unsigned long)fs.f_type == BPF_FS_MAGIC;
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		close(pfd);
		if (S_ISDIR(st.st_mode))
			return bpfiter_fail(L, EISDIR, "open", "%s: reading the view failed", path), -1;
		return bpfiter_fail(L, EPROTO, "open", "%s: not a bpfiter view (%s; views are pins on "
				    "bpffs or regular files)", path, file_type_name(st.st_mode)), -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	RETRY_AFTER_GC(L, fd, open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0 && errno == ENOENT)	/* no /proc: checked above, near enough */
		RETRY_AFTER_GC(L, fd, open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	err = errno;
	close(pfd);
	if (fd >= 0)
		return fd;
	/* bpffs opens only iterator links (and maps with BTF, as text) */
	if (bpffs && err == EIO)
		return bpfiter_fail(L, EPROTO, "open", "%s: not a bpfiter view (a pinned BPF program "
				    "or map, not an iterator link)", path), -1;
	return bpfiter_fail(L, err, "open", "%s", path), -1;
}

/* open(path [, options]) -> generic-for quadruple | nil, message, errno.
 * The view's header names its target; only reader options apply. Any
 * bytes are safe to read: the stream checks every record (stream.c). */
static int view_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stream s;
	int fd, err;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	fd = open_view_fd(L, path);
	if (fd < 0)
		return 3;
	err = stream_open_view(&s, fd);
	if (err)
		return bpfiter_fail(L, err, "open", "%s: %s", path, s.why);
	return iterator_push_view(L, &s, 2);
}

void view_register(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "pin", view_pin },
		{ "unpin", view_unpin },
		{ "open", view_open },
		{ NULL, NULL },
	};

	luaL_setfuncs(L, fns, 0);
}
