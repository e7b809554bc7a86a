/* bpfiter: walk live kernel objects from Lua through BPF iterators.
 *
 * Public C interface for programs that embed Lua 5.4. Build with
 * `pkg-config --cflags --libs bpfiter` (libbpfiter.a, libbpf, liblua5.4),
 * then register the module:
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

/* The only names the library exports; everything else is internal. */
#define BPFITER_API __attribute__((visibility("default")))

/* The whole module (Lua layer included, embedded in the library). */
BPFITER_API int luaopen_bpfiter(lua_State *L);

/* The C core alone: loading, link creation, reading, decoding. */
BPFITER_API int luaopen_bpfiter_core(lua_State *L);

/* Registers "bpfiter" and "bpfiter.core" in package.preload. */
BPFITER_API void bpfiter_preload(lua_State *L);

#endif
