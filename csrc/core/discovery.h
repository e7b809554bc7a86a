#ifndef BPFITER_DISCOVERY_H
#define BPFITER_DISCOVERY_H

#include <lua.h>

/* Adds discover() (the kernel's iterator targets, see discovery.c) to the
 * table on top of the stack. */
void discovery_register(lua_State *L);

#endif
