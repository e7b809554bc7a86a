#ifndef BPFITER_ITERATOR_H
#define BPFITER_ITERATOR_H

#include <stdint.h>
#include <lua.h>
#include "target.h"

/* Registers the iterator metatable and the program cache in the registry. */
void iterator_register(lua_State *L);

/* Lua function body of every target: upvalue 1 is the struct target. */
int iterator_open(lua_State *L);

/* A link of target t configured by the options at index opts; returns its
 * fd, or pushes the failure triple and returns -1. *held_fd gets the fd
 * the walk needs open while it runs (struct attach), or -1; held_fd NULL:
 * closed at once. */
int iterator_create_link(lua_State *L, const struct target *t, int opts, int *held_fd);

/* Bytes one read() asks for. A view's first read must be this large too:
 * the cgroup iterator cannot continue a walk in a second read. */
#define ITERATOR_READ_BUFFER (64 * 1024)

/* Pushes the generic-for quadruple over stream fd, whose header was already
 * read and said `kind`; `rest` holds the rest_len bytes (at most
 * ITERATOR_READ_BUFFER) read after it. Owns fd, then checks the reader
 * options at index opts (raising argument errors; fd is closed by __gc). */
int iterator_push_view(lua_State *L, const struct target *t, int fd, uint32_t kind, int opts,
		       const void *rest, size_t rest_len);

/* For a target's step hook: the next raw record of the walk (frames and
 * ring markers handled), valid until the next call; NULL at the end, when
 * the iterator is already released. Raises on stream errors. */
const void *iterator_next_record(lua_State *L, struct iterator *it);

/* Pushes rec decoded with the target's field table. */
void iterator_decode(lua_State *L, struct iterator *it, const void *rec);

/* Releases the iterator and raises "bpfiter: TARGET: WHY: strerror(err)". */
int iterator_abort(lua_State *L, struct iterator *it, int err, const char *why);

#endif
