/* Attach hooks shared by several targets. */
#ifndef BPFITER_ATTACH_H
#define BPFITER_ATTACH_H

#include "target.h"

/* task, task_file, task_vma: option pid=N binds the walk to one process
 * (through a pidfd) or, when N is a thread id, to one thread. */
int attach_task_pid(lua_State *L, const struct target *t, struct attach *a);

/* Reads an integer option from the options table at index 1; def if absent. */
lua_Integer option_integer(lua_State *L, const char *name, lua_Integer def);
int option_boolean(lua_State *L, const char *name, int def);

#endif
