/* The options a walk accepts: checked against the target's declarations
 * (target.h, struct option), read by hooks, exported to Lua. */
#ifndef BPFITER_OPTIONS_H
#define BPFITER_OPTIONS_H

#include <stdbool.h>
#include <lua.h>
#include "target.h"

/* Checks every key of the options table at index opts (absent or nil: an
 * empty table is put there) against t's declarations, allowing options of
 * the given scopes (a mask of enum option_scope); raises the argument
 * error a wrong name, type, range, word or scope deserves, or a missing
 * required option. */
void options_check(lua_State *L, const struct target *t, int opts, unsigned scopes);

/* Readers for hooks, after options_check: the value of option name in the
 * table at index opts, or def when it is absent. */
bool option_is_set(lua_State *L, int opts, const char *name);
lua_Integer option_integer(lua_State *L, int opts, const char *name, lua_Integer def);
bool option_boolean(lua_State *L, int opts, const char *name, bool def);
/* The string (it stays in the options table), or NULL when absent. */
const char *option_string(lua_State *L, int opts, const char *name);
/* The index in the option's declared words of its value, or def. */
int option_word(lua_State *L, const struct target *t, int opts, const char *name, int def);

/* Argument arg as a C string: luaL_checklstring, and an argument error
 * when it holds a NUL byte (the C string would name something else: a
 * shorter path). For the path and mode arguments of pin, open, unpin. */
const char *option_checkstring(lua_State *L, int arg);

/* Pushes {{name =, type =, scope =, min =, max =, words =, required =,
 * arg =, help =}, ...}: t's public options (not OPT_INTERNAL), in order. */
void options_push(lua_State *L, const struct target *t);

/* Adds core.check_options(target, opts): nil when opts suit the public
 * function bpfiter[target] (scopes kernel, reader and lua), else the
 * message; for the Lua layer that resolves the lua-scope options. */
void options_register(lua_State *L);

#endif
