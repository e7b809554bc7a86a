/* The options a walk accepts, checked against the target's table. */
#ifndef BPFITER_OPTIONS_H
#define BPFITER_OPTIONS_H

#include <lua.h>
#include "target.h"

/* Checks every key of the options table at index opts (absent or nil: an
 * empty table is put there) against t's list, allowing options of the given
 * scopes (OPT_KERNEL, OPT_READER); raises the argument error a wrong name,
 * type or scope deserves. */
void options_check(lua_State *L, const struct target *t, int opts, unsigned scopes);

#endif
