/* The verified-program cache across processes (program_cache.c). */
#ifndef BPFITER_PROGRAM_CACHE_H
#define BPFITER_PROGRAM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>
#include "target.h"

struct bpf_object;

#define PROGRAM_CACHE_KEY_LEN 32

/* The cache key of t's opened (and prepared, not yet loaded) object, whose
 * ELF image is elf[0, size); false when the program may not be shared:
 * its maps keep state beyond one call. */
bool program_cache_key(const struct target *t, struct bpf_object *obj, const void *elf,
		       size_t size, char key[PROGRAM_CACHE_KEY_LEN + 1]);

/* A verified program fd for t under key, or -1 (no cache, no entry, or a
 * foreign entry, which is removed). */
int program_cache_get(const struct target *t, const char *key);

/* Keeps prog_fd as t's program under key, when the cache is usable. */
void program_cache_put(const struct target *t, const char *key, int prog_fd);

/* Adds core.program_cache and core.program_cache_clear to the table on top. */
void program_cache_register(lua_State *L);

#endif
