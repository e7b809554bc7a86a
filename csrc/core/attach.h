/* Attach hooks shared by several targets. */
#ifndef BPFITER_ATTACH_H
#define BPFITER_ATTACH_H

#include "target.h"

/* The largest pid the core accepts (the kernel's PID_MAX_LIMIT is 4M). */
#define ATTACH_PID_MAX 0x3fffffff

/* The pid option of task, task_file and task_vma walks (attach_task_pid
 * reads it), declared once for every target that binds its walk to one
 * process. */
#define OPTION_TASK_PID							\
	{ .name = "pid", .type = OPT_INTEGER, .scope = OPT_KERNEL,	\
	  .min = 1, .max = ATTACH_PID_MAX, .arg = "PID",		\
	  .expect = "a positive pid",					\
	  .help = "only process PID (held by a pidfd); a thread id: that thread only" }

/* task, task_file, task_vma: option pid=N binds the walk to one process
 * (through a pidfd) or, when N is a thread id, to one thread. */
int attach_task_pid(lua_State *L, const struct target *t, int opts, struct attach *a);

/* Gives fd to the link info being built in a (closed once the link exists)
 * and returns the number to put there: fd itself, or a duplicate above 2.
 * The kernel reads an fd field of 0 as "none given" and would widen the walk
 * (a pidfd on fd 0 walked every process when stdin was closed), so no link
 * info ever holds 0, 1 or 2. Out of fds, it collects garbage and retries
 * once (fds.h). Returns -1 (errno set, fd closed) on failure. */
int attach_fd(lua_State *L, struct attach *a, int fd);

struct bpf_object;

/* For prepare hooks that set load-time constants: copies the object's
 * .rodata image (its first size bytes, the skeleton's struct NAME__rodata:
 * the section may go on with the program's static constants) into ro,
 * which rodata_set then loads back. Return 0 or an errno. */
int rodata_get(struct bpf_object *obj, void *ro, size_t size);
int rodata_set(struct bpf_object *obj, const void *ro, size_t size);

#endif
