/* bpfiter: walk live kernel objects from Lua through BPF iterators.
 *
 * Public C interface for programs that embed Lua 5.4. Link with
 * libbpfiter.a, libbpf and liblua5.4, then register the module:
 *
 *     luaL_requiref(L, "bpfiter", luaopen_bpfiter, 0);
 *
 * or make it available to `require` without loading it yet:
 *
 *     bpfiter_preload(L);
 */
#ifndef BPFITER_H
#define BPFITER_H

#include <lua.h>

#define BPFITER_VERSION "0.1.0"

/* The whole module (Lua layer included, embedded in the library). */
int luaopen_bpfiter(lua_State *L);

/* The C core alone: loading, link creation, reading, decoding. */
int luaopen_bpfiter_core(lua_State *L);

/* Registers "bpfiter" and "bpfiter.core" in package.preload. */
void bpfiter_preload(lua_State *L);

#endif
