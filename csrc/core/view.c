/* Pinned views: an iterator link pinned in bpffs, readable by any user the
 * file mode lets in, without BPF privileges. Reading runs the program with
 * the pinner's privileges; the file mode is the only access control. */
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

#include "decode.h"
#include "errors.h"
#include "fds.h"
#include "iterator.h"
#include "options.h"
#include "record_common.h"

#define BPF_FS_MAGIC 0xcafe4a11

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC;
}

static const struct target *target_named(const char *name)
{
	for (size_t i = 0; i < bpfiter_ntargets; i++)
		if (strcmp(bpfiter_targets[i]->name, name) == 0)
			return bpfiter_targets[i];
	return NULL;
}

/* pin(target, path [, options [, mode]]) -> true | nil, message, errno */
static int view_pin(lua_State *L)
{
	const char *name = option_checkstring(L, 1);
	const char *path = option_checkstring(L, 2);
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
		mode = strtol(option_checkstring(L, 4), &end, 8);
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
	const char *path = option_checkstring(L, 1);

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

/* open(path [, options]) -> generic-for quadruple | nil, message, errno.
 * The view's header names its target; only reader options apply. */
static int view_open(lua_State *L)
{
	const char *path = option_checkstring(L, 1);
	struct bpfiter_header h;
	const struct target *t = NULL;
	char why[160], *buf;
	uint32_t kind;
	ssize_t n;
	int fd, err;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	/* a userdata: an argument error below cannot leak it */
	buf = lua_newuserdatauv(L, ITERATOR_READ_BUFFER, 0);
	RETRY_AFTER_GC(L, fd, open(path, O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return bpfiter_fail(L, errno, "open", "%s", path);
	n = read_at_least(fd, buf, sizeof(h), ITERATOR_READ_BUFFER);
	if (n < 0) {
		err = errno;
		close(fd);
		return bpfiter_fail(L, err, "open", "%s: reading the view failed", path);
	}
	if ((size_t)n >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		t = decode_header(&h, NULL, &kind, why, sizeof(why));
	}
	if (!t) {
		close(fd);
		return bpfiter_fail(L, EPROTO, "open", "%s: %s", path,
				    (size_t)n >= sizeof(h) ? why : "not a bpfiter view (too short)");
	}
	/* the iterator copies what was read after the header */
	return iterator_push_view(L, t, fd, kind, 2, buf + sizeof(h), (size_t)n - sizeof(h));
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
