/* Pinned views: an iterator link pinned in bpffs, readable by any user the
 * file mode lets in, without BPF privileges. Reading runs the program with
 * the pinner's privileges; the file mode is the only access control. */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include <lauxlib.h>
#include <bpf/bpf.h>

#include "errors.h"
#include "fds.h"
#include "iterator.h"
#include "options.h"
#include "view.h"
#include "record_common.h"
#include "stream.h"

#define BPF_FS_MAGIC 0xcafe4a11

/* Reads until at least `want` bytes are in buf (or EOF), asking for all of
 * size each time: one large first read, as the cgroup iterator needs. */
static ssize_t read_at_least(int fd, char *buf, size_t want, size_t size)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* BPF_OBJ_PIN relative to a directory fd (kernel 6.5+); libbpf 1.1.2 and
 * Debian 12's uapi headers predate it, so the attr is spelled out here. */
#define PIN_F_PATH_FD (1U << 14)

struct obj_pin_attr {
	__u64 pathname;
	__u32 bpf_fd;
	__u32 file_flags;
	__s32 path_fd;
};

/* Where a pin lives: its directory, opened once (O_PATH), and its name in
 * it. Everything after the open acts on that directory's entry through
 * the fd: a user who owns the directory can swap the entry for a symlink
 * at any moment, so no call may resolve the whole path again. */
struct pin_place {
	int dir_fd;
	const char *name;	/* inside the caller's path string */
	char dir[PATH_MAX];
};

/* The path argument at idx: a string without NUL bytes. */
/* Opens path's directory; 0 or an errno, *what saying which step failed. */
static int place_open(const char *path, struct pin_place *pl, const char **what)
{
	const char *slash = strrchr(path, '/');
	struct statfs st;

	pl->dir_fd = -1;
	pl->name = slash ? slash + 1 : path;
	*what = "";
	if (strlen(path) >= PATH_MAX)
		return ENAMETOOLONG;
	if (!*pl->name || strcmp(pl->name, ".") == 0 || strcmp(pl->name, "..") == 0) {
		*what = ": the path names a directory, not a pin";
		return EISDIR;
	}
	if (!slash)
		snprintf(pl->dir, sizeof(pl->dir), ".");
	else
		snprintf(pl->dir, sizeof(pl->dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	pl->dir_fd = open(pl->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pl->dir_fd < 0) {
		*what = ": its directory";
		return errno;
	}
	if (fstatfs(pl->dir_fd, &st) || (unsigned long)st.f_type != BPF_FS_MAGIC) {
		*what = " is not on a bpffs mount (mount one first, e.g. "
			"'mount -t bpf bpf /sys/fs/bpf')";
		return ENOTSUP;
	}
	return 0;
}

static void place_close(struct pin_place *pl)
{
	if (pl->dir_fd >= 0)
		close(pl->dir_fd);
	pl->dir_fd = -1;
}

/* The entry `name` of the place itself, never what a symlink points to:
 * an O_PATH fd, or -1 with errno set. */
static int place_entry(const struct pin_place *pl, struct stat *st)
{
	int fd = openat(pl->dir_fd, pl->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, st)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* "/proc/self/fd/N": reaches the very inode fd holds, whatever its name
 * has become since. */
static const char *fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

static __u32 link_id(int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Gives our pin its mode. The entry is opened without following links and
 * checked to hold our link before the mode is set through that open file:
 * if it was swapped meanwhile, nothing is changed. 0 or an errno. */
static int pin_set_mode(const struct pin_place *pl, int link_fd, mode_t mode)
{
	char proc[64];
	struct stat st;
	int fd, obj, err = 0;
	__u32 id;

	fd = place_entry(pl, &st);
	if (fd < 0)
		return errno;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return EBUSY;
	}
	/* a regular file in bpffs is a BPF object: this fails only for want
	 * of permission (a umask that left the owner no access) */
	obj = bpf_obj_get(fd_path(fd, proc, sizeof(proc)));
	if (obj < 0) {
		err = errno;
		close(fd);
		return err;
	}
	id = link_id(obj);
	close(obj);
	if (!id || id != link_id(link_fd))
		err = EBUSY;
	else if (chmod(proc, mode))
		err = errno;
	close(fd);
	return err;
}

/* "0640" (Lua has no octal literals), or an integer such as 416. */
static lua_Integer check_mode(lua_State *L, int idx)
{
	lua_Integer mode = 0600;

	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = option_checkstring(L, idx);
		char *end;

		len = strlen(s);
		mode = strtol(s, &end, 8);
		if (end != s + len || end == s || *s == '-' || *s == '+' || *s == ' ')
			mode = -1;
	} else if (!lua_isnoneornil(L, idx)) {
		mode = luaL_checkinteger(L, idx);
	}
	if (mode < 0 || mode > 0777)
		bpfiter_argerror(L, idx, "mode must be an octal string like \"0640\" or "
				 "an integer up to 511");
	return mode;
}

/* Pins fd as pl's name inside pl's directory, never resolving the path
 * again: relative to the directory fd (BPF_F_PATH_FD, 6.5+), or before 6.5
 * (which refuses the flag with EINVAL) through /proc/self/fd/DIR/NAME,
 * where the magic link is the directory opened, whatever its path names
 * now. 0, or -1 with errno. */
static int pin_at(const struct pin_place *pl, int fd)
{
	struct obj_pin_attr attr;
	char path[PATH_MAX];

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(uintptr_t)pl->name;
	attr.bpf_fd = (__u32)fd;
	attr.file_flags = PIN_F_PATH_FD;
	attr.path_fd = pl->dir_fd;
	if (syscall(__NR_bpf, BPF_OBJ_PIN, &attr, sizeof(attr)) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pl->dir_fd, pl->name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_pin(fd, path) ? -1 : 0;
}

/* pin(target, path [, options [, mode]]) -> true | nil, message, errno */
static int view_pin(lua_State *L)
{
	const char *name = option_checkstring(L, 1);
	const char *path = option_checkstring(L, 2);
	const struct target *t = target_named(name);
	struct pin_place pl;
	const char *what;
	mode_t mode;
	int link_fd, err;

	if (!t)
		return bpfiter_argerror(L, 1, "unknown target '%s'", name);
	if (t->ring && !t->pin_without_ring)	/* a view's readers could not reach the ring */
		return bpfiter_fail(L, ENOTSUP, "pin", "%s cannot be pinned: its records "
				    "travel through a ring buffer only the loading process reads",
				    name);
	lua_settop(L, 4);
	options_check(L, t, 3, OPT_KERNEL);
	mode = (mode_t)check_mode(L, 4);
	err = place_open(path, &pl, &what);
	if (err) {
		place_close(&pl);
		return bpfiter_fail(L, err, "pin", "%s%s", path, what);
	}
	link_fd = iterator_create_link(L, t, 3, NULL);
	if (link_fd < 0) {
		place_close(&pl);
		return 3;
	}
	if (pin_at(&pl, link_fd)) {
		err = errno;
		close(link_fd);
		place_close(&pl);
		return bpfiter_fail(L, err, "pin", "%s", path);
	}
	err = pin_set_mode(&pl, link_fd, mode);
	close(link_fd);		/* the pin holds the link now */
	if (err == EBUSY) {
		/* not ours any more: leave whatever is there alone */
		place_close(&pl);
		return bpfiter_fail(L, err, "pin", "%s was replaced while pinning; its mode "
				    "was not set", path);
	}
	if (err)
		unlinkat(pl.dir_fd, pl.name, 0);
	place_close(&pl);
	if (err)
		return bpfiter_fail(L, err, "pin", "setting the mode of %s", path);
	lua_pushboolean(L, 1);
	return 1;
}

/* Whether the bpffs file fd (O_PATH) is a bpfiter view: an iterator link
 * whose stream starts with a bpfiter header or trailer (of any build). */
static bool is_view(int fd)
{
	struct bpf_link_info info;
	struct bpfiter_header h;
	__u32 len = sizeof(info);
	char proc[64];
	ssize_t n;
	int obj, it;

	obj = bpf_obj_get(fd_path(fd, proc, sizeof(proc)));
	if (obj < 0)
		return false;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(obj, &info, &len) || info.type != BPF_LINK_TYPE_ITER) {
		close(obj);
		return false;
	}
	it = bpf_iter_create(obj);
	close(obj);
	if (it < 0)
		return false;
	n = read_at_least(it, (char *)&h, sizeof(h), sizeof(h));
	close(it);
	return n == (ssize_t)sizeof(h) && memcmp(h.magic, BPFITER_MAGIC, sizeof(h.magic)) == 0 &&
	       (h.kind == BPFITER_KIND_BEGIN || h.kind == BPFITER_KIND_END);
}

/* unpin(path [, {force = true}]) -> true | nil, message, errno. Removes a
 * bpfiter view from bpffs; force also removes a symlink (never what it
 * points to) or another bpffs object. */
static int view_unpin(lua_State *L)
{
	const char *path = option_checkstring(L, 1);
	struct pin_place pl;
	const char *what;
	struct stat st;
	bool force = false;
	int fd, err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "force") != 0 ||
			    strlen(lua_tostring(L, -2)) != lua_rawlen(L, -2))
				return bpfiter_argerror(L, 2, "unknown option '%s' for unpin (only 'force')",
							lua_type(L, -2) == LUA_TSTRING ?
							lua_tostring(L, -2) : luaL_typename(L, -2));
			if (!lua_isboolean(L, -1))
				return bpfiter_argerror(L, 2, "option 'force' must be a boolean, got %s",
							luaL_typename(L, -1));
			force = lua_toboolean(L, -1);
			lua_pop(L, 1);
		}
	}
	err = place_open(path, &pl, &what);
	if (err) {
		place_close(&pl);
		/* unpin removes bpffs files only, force or not */
		if (err == ENOTSUP)
			return bpfiter_fail(L, EINVAL, "unpin", "%s is not a pin in bpffs", path);
		return bpfiter_fail(L, err, "unpin", "%s%s", path, what);
	}
	fd = place_entry(&pl, &st);
	if (fd < 0) {
		err = errno;
		place_close(&pl);
		return bpfiter_fail(L, err, "unpin", "%s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		what = " is a directory";
	} else if (!force && S_ISLNK(st.st_mode)) {
		err = ELOOP;
		what = " is a symbolic link; unpin does not follow it "
		       "(force = true, or --force, removes the link itself)";
	} else if (!force && !is_view(fd)) {
		err = EPROTO;
		what = " is not a bpfiter view (a pinned map, program or another tool's "
		       "link; force = true, or --force, removes it anyway)";
	}
	close(fd);
	/* The entry of this directory, not a path resolved again; a swap since
	 * the checks can only make us remove another entry of the directory,
	 * which its owner could remove anyway. */
	if (!err && unlinkat(pl.dir_fd, pl.name, 0))
		err = errno, what = "";
	place_close(&pl);
	if (err)
		return bpfiter_fail(L, err, "unpin", "%s%s", path, what);
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
	const char *path = option_checkstring(L, 1);
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
