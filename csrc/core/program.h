/* The program cache: a target's BPF object is loaded (CO-RE, verifier)
 * once per Lua state and reused by every walk of it. */
#ifndef BPFITER_PROGRAM_H
#define BPFITER_PROGRAM_H

#include <stddef.h>
#include <lua.h>
#include "target.h"

struct bpf_object;
struct ring_buffer;

/* A loaded target. target.ring: one consumer of the program's ring for all
 * its walks in this Lua state. Walks may interleave, but each read() is
 * emptied into the walk that made it: it sets on_item and reader before
 * consuming the ring. */
struct program {
	struct bpf_object *obj;
	int fd;
	struct ring_buffer *ring;
	int (*on_item)(void *reader, const void *data, size_t size);
	void *reader;
};

/* Registers the program metatable and the cache in the registry. */
void program_register(lua_State *L);

/* t's program fd, loading it on first use in this Lua state, or pushes
 * the failure triple and returns -1. */
int program_fd(lua_State *L, const struct target *t);

/* The same without raising or pushing anything: the fd, or -errno with the
 * reason (without the target's name) in msg. */
int program_load(lua_State *L, const struct target *t, char *msg, size_t msgsize);

/* t's program, once program_fd loaded it; NULL before. */
struct program *program_loaded(lua_State *L, const struct target *t);

/* " (needs root, or CAP_BPF and CAP_PERFMON)" when err says privilege
 * is missing, else "". The verifier also says EACCES; only an
 * unprivileged caller gets the hint. */
const char *program_load_hint(int err);

#endif
