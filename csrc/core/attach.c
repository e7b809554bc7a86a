#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "options.h"
#include "fds.h"

int rodata_get(struct bpf_object *obj, void *ro, size_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const void *image;
	size_t have = 0;

	/* the skeleton's struct lays out the globals; the section may go on
	 * with static constants of the program (vma.bpf.c's `nowhere`) */
	image = map ? bpf_map__initial_value(map, &have) : NULL;
	if (!image || have < size)
		return ENOENT;
	memcpy(ro, image, size);
	return 0;
}

int rodata_set(struct bpf_object *obj, const void *ro, size_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const void *image;
	size_t have = 0;
	char *copy;
	int err;

	image = map ? bpf_map__initial_value(map, &have) : NULL;
	if (!image || have < size)
		return ENOENT;
	copy = malloc(have);
	if (!copy)
		return ENOMEM;
	memcpy(copy, image, have);
	memcpy(copy, ro, size);
	err = -bpf_map__set_initial_value(map, copy, have);
	free(copy);
	return err;
}

int attach_fd(lua_State *L, struct attach *a, int fd)
{
	if (fd >= 0 && fd <= 2) {
		int moved, err;

		RETRY_AFTER_GC(L, moved, fcntl(fd, F_DUPFD_CLOEXEC, 3));
		err = errno;

		close(fd);
		errno = err;
		fd = moved;
	}
	if (fd < 0)
		return -1;
	a->fds[a->nfds++] = fd;
	return fd;
}

/* pidfd_open refuses a thread id that is not a group leader (EINVAL, or
 * ENOENT on newer kernels) as well as a pid that is gone: after such a
 * refusal, a pid that still exists is a thread. */
static bool still_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

int attach_task_pid(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	lua_Integer pid = option_integer(L, opts, "pid", 0);
	int fd;

	if (!option_is_set(L, opts, "pid"))
		return 0;	/* every process */
	RETRY_AFTER_GC(L, fd, (int)syscall(SYS_pidfd_open, (pid_t)pid, 0));
	if (fd >= 0) {
		/* A pidfd pins the process: a recycled pid cannot redirect us. */
		fd = attach_fd(L, a, fd);
		if (fd < 0)
			return bpfiter_fail(L, errno, t->name, "pid %lld", (long long)pid);
		a->info.task.pid_fd = (__u32)fd;
	} else if ((errno == EINVAL || errno == ENOENT) && still_exists((pid_t)pid)) {
		a->info.task.tid = (__u32)pid;
	} else {
		return bpfiter_fail(L, errno == EINVAL || errno == ENOENT ? ESRCH : errno,
				    t->name, "pid %lld", (long long)pid);
	}
	a->has_info = true;
	return 0;
}
