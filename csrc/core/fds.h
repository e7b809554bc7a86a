/* Creating fds when walks dropped without close() may still hold some.
 *
 * An iterator the program forgot (no close, no <close>, no break out of a
 * generic for) keeps its link, iterator and held fds until the garbage
 * collector finalizes it. With a low RLIMIT_NOFILE the next fd-creating
 * call then fails with EMFILE although nothing is really in use. Every call
 * that creates an fd on behalf of a Lua caller therefore goes through this
 * one rule: on EMFILE or ENFILE, run a full collection (finalizing every
 * unreachable walk) and try once more. A second failure is reported as it
 * is (nil, message, EMFILE for the caller). */
#ifndef BPFITER_FDS_H
#define BPFITER_FDS_H

#include <stdbool.h>
#include <lua.h>

/* When err says the process or system is out of fds: a full garbage
 * collection, and true (the caller retries once). Otherwise false. */
bool fds_reclaim(lua_State *L, int err);

/* err, or EMFILE when a library reported running out of fds as something
 * else (libbpf's vmlinux BTF loader says ESRCH for any failure to open)
 * and this process cannot open an fd now. */
int fds_errno(int err);

/* var = call, where call returns an fd, or < 0 with errno set. */
#define RETRY_AFTER_GC(L, var, call)					\
	do {								\
		(var) = (call);						\
		if ((var) < 0 && fds_reclaim((L), errno))		\
			(var) = (call);					\
	} while (0)

/* var = call, where call returns a pointer to something holding an fd
 * (FILE *, struct btf *), or NULL with errno set (libbpf 1.x). */
#define RETRY_PTR_AFTER_GC(L, var, call)				\
	do {								\
		(var) = (call);						\
		if (!(var) && fds_reclaim((L), errno))			\
			(var) = (call);					\
	} while (0)

#endif
