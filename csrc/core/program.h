/* The program cache: a target's BPF object is loaded (CO-RE, verifier)
 * once per Lua state and reused by every walk of it; a variant of it
 * without kernel work the walk's fields option does not ask for (struct
 * target.kernel_work) likewise, once per variant. */
#ifndef BPFITER_PROGRAM_H
#define BPFITER_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include "stream.h"
#include "target.h"

struct bpf_object;

/* A loaded target. target.ring: one consumer of the program's ring for all
 * its walks in this Lua state. Walks may interleave, but each read() is
 * emptied into the walk's stream that made it (stream.c). */
struct program {
	struct bpf_object *obj;	/* NULL for a program from the program cache */
	int fd;
	bool loaded;
	bool cached;		/* fd came from the cache (program_cache.c) */
	uint32_t want;		/* the variant: program_want */
	struct stream_ring ring;
	unsigned ring_bytes;	/* the ring's size; 0 before the first load */
};

/* Registers the program metatable and the cache in the registry. */
void program_register(lua_State *L);

/* Adds core.program_info, core.program_cache and core.program_cache_clear
 * to the table on top. */
void program_register_functions(lua_State *L);

/* A variant of a target's program: the bits of its kernel_work done, the
 * others skipped (bpfiter_want in bpf/common/iter_common.bpf.h).
 * PROGRAM_FULL: the program as built, all of its work done. */
#define PROGRAM_FULL UINT32_MAX

/* The variant a walk of t with the (checked) options at index opts needs
 * (0: no options): the bits of t->kernel_work whose fields its fields
 * option names; PROGRAM_FULL without a fields option, or when it names
 * fields of every bit. Views use PROGRAM_FULL: their readers choose the
 * fields later. */
uint32_t program_want(lua_State *L, const struct target *t, int opts);

/* The fd of t's program variant want, loading it on first use in this Lua
 * state, or pushes the failure triple and returns -1. */
int program_fd(lua_State *L, const struct target *t, uint32_t want);

/* The same without raising or pushing anything: the fd, or -errno with the
 * reason (without the target's name) in msg. */
int program_load(lua_State *L, const struct target *t, uint32_t want, char *msg, size_t msgsize);

/* Whether t's (full) program loads on this kernel: 0, or an errno with the
 * reason in msg. A program not loaded yet is loaded and closed again, so
 * asking about every target holds no fds. */
int program_probe(lua_State *L, const struct target *t, char *msg, size_t msgsize);

/* t's program variant want, once program_fd loaded it; NULL before. */
struct program *program_loaded(lua_State *L, const struct target *t, uint32_t want);

/* Loads t's program (variant want) again with a ring twice as large (at most
 * PROGRAM_RING_MAX bytes), for walks that must fit in one ring. Returns 0,
 * or an errno with the reason in msg; the program is then unloaded (the
 * next program_fd loads it afresh). */
#define PROGRAM_RING_MAX (256u << 20)
int program_grow_ring(lua_State *L, const struct target *t, uint32_t want, char *msg,
		      size_t msgsize);

/* " (needs root, or CAP_BPF and CAP_PERFMON)" when err says privilege
 * is missing, else "". The verifier also says EACCES; only an
 * unprivileged caller gets the hint. */
const char *program_load_hint(int err);

#endif
