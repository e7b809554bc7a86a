/* Attach hooks shared by several targets. */
#ifndef BPFITER_ATTACH_H
#define BPFITER_ATTACH_H

#include "target.h"

/* task, task_file, task_vma: option pid=N binds the walk to one process
 * (through a pidfd) or, when N is a thread id, to one thread. */
int attach_task_pid(lua_State *L, const struct target *t, int opts, struct attach *a);

struct bpf_object;

/* For prepare hooks that set load-time constants: copies the object's
 * .rodata image (size bytes, the skeleton's struct NAME__rodata) into ro,
 * which rodata_set then loads back. Return 0 or an errno. */
int rodata_get(struct bpf_object *obj, void *ro, size_t size);
int rodata_set(struct bpf_object *obj, const void *ro, size_t size);

/* Reads a validated option from the options table at index opts; def when
 * absent. */
lua_Integer option_integer(lua_State *L, int opts, const char *name, lua_Integer def);
int option_boolean(lua_State *L, int opts, const char *name, int def);

#endif
