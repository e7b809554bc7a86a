#ifndef BPFITER_ITERATOR_H
#define BPFITER_ITERATOR_H

#include <lua.h>
#include "target.h"

/* Registers the iterator metatable and the program cache in the registry. */
void iterator_register(lua_State *L);

/* Lua function body of every target: upvalue 1 is the struct target. */
int iterator_open(lua_State *L);

#endif
