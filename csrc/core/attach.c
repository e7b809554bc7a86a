#include "attach.h"

#include <errno.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "fds.h"

int rodata_get(struct bpf_object *obj, void *ro, size_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const void *image;
	size_t have = 0;

	image = map ? bpf_map__initial_value(map, &have) : NULL;
	if (!image || have != size)
		return ENOENT;
	memcpy(ro, image, size);
	return 0;
}

int rodata_set(struct bpf_object *obj, const void *ro, size_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");

	return map ? -bpf_map__set_initial_value(map, ro, size) : ENOENT;
}

lua_Integer option_integer(lua_State *L, int opts, const char *name, lua_Integer def)
{
	lua_Integer v = def;

	if (lua_getfield(L, opts, name) == LUA_TNUMBER)
		v = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return v;
}

int option_boolean(lua_State *L, int opts, const char *name, int def)
{
	int v = def;

	if (lua_getfield(L, opts, name) == LUA_TBOOLEAN)
		v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* A pid that is a thread, not a group leader, has no process pidfd. */
static bool is_thread(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

int attach_task_pid(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	lua_Integer pid = option_integer(L, opts, "pid", LUA_MININTEGER);
	int fd;

	if (pid == LUA_MININTEGER)
		return 0;	/* every process */
	if (pid <= 0 || pid > 0x3fffffff)
		return bpfiter_argerror(L, opts, "option 'pid' must be a positive pid, got %lld",
					(long long)pid);
	RETRY_AFTER_GC(L, fd, (int)syscall(SYS_pidfd_open, (pid_t)pid, 0));
	if (fd >= 0) {
		/* A pidfd pins the process: a recycled pid cannot redirect us. */
		a->info.task.pid_fd = (__u32)fd;
		a->fds[a->nfds++] = fd;
	} else if ((errno == EINVAL || errno == ENOENT) && is_thread((pid_t)pid)) {
		a->info.task.tid = (__u32)pid;
	} else {
		return bpfiter_fail(L, errno == EINVAL || errno == ENOENT ? ESRCH : errno,
				    t->name, "pid %lld", (long long)pid);
	}
	a->has_info = true;
	return 0;
}
