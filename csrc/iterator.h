#ifndef BPFITER_ITERATOR_H
#define BPFITER_ITERATOR_H

#include <stdint.h>
#include <lua.h>
#include "target.h"

/* Registers the iterator metatable and the program cache in the registry. */
void iterator_register(lua_State *L);

/* Lua function body of every target: upvalue 1 is the struct target. */
int iterator_open(lua_State *L);

/* Checks the options table at index opts for target t, allowing options of
 * the given scopes (OPT_KERNEL, OPT_READER); raises argument errors. */
void iterator_check_options(lua_State *L, const struct target *t, int opts, unsigned scopes);

/* A link of target t configured by the options at index opts; returns its
 * fd, or pushes the failure triple and returns -1. */
int iterator_create_link(lua_State *L, const struct target *t, int opts);

/* Pushes the generic-for quadruple over stream fd, whose header was already
 * read and said `kind`; reader options at index opts (0: none). Owns fd. */
int iterator_push_view(lua_State *L, const struct target *t, int fd, uint32_t kind, int opts);

/* Adds pin, unpin and open (pinned views, view.c) to the table on top. */
void view_register(lua_State *L);

#endif
