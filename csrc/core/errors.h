/* The one place that builds error values, so every message looks alike. */
#ifndef BPFITER_ERRORS_H
#define BPFITER_ERRORS_H

#include <lua.h>

/* Pushes the failure triple nil, "TARGET: WHAT: strerror(err)", err and
 * returns 3. For environmental failures the caller can handle. */
int bpfiter_fail(lua_State *L, int err, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Raises "bpfiter: TARGET: WHAT: strerror(err)". For failures in the middle
 * of a walk, where there is no call left to return them from. */
int bpfiter_raise(lua_State *L, int err, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Raises "bad argument #ARG to 'FUNC' (MESSAGE)". For programmer errors. */
int bpfiter_argerror(lua_State *L, int arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The last message libbpf printed, kept so failures can name their cause. */
const char *bpfiter_libbpf_last(void);
void bpfiter_libbpf_capture(void);

#endif
