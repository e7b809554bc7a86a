#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <bpf/libbpf.h>

static void push_message(lua_State *L, int err, const char *target,
			 const char *fmt, va_list ap)
{
	char what[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (err)
		lua_pushfstring(L, "%s: %s: %s", target, what, strerror(err));
	else
		lua_pushfstring(L, "%s: %s", target, what);
}

int bpfiter_fail(lua_State *L, int err, const char *target, const char *fmt, ...)
{
	va_list ap;

	lua_pushnil(L);
	va_start(ap, fmt);
	push_message(L, err, target, fmt, ap);
	va_end(ap);
	lua_pushinteger(L, err);
	return 3;
}

int bpfiter_raise(lua_State *L, int err, const char *target, const char *fmt, ...)
{
	va_list ap;

	lua_pushliteral(L, "bpfiter: ");
	va_start(ap, fmt);
	push_message(L, err, target, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	return lua_error(L);
}

int bpfiter_argerror(lua_State *L, int arg, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return luaL_argerror(L, arg, msg);
}

/* libbpf is chatty on stderr; keep its last warning for our messages and
 * print everything only when BPFITER_DEBUG is set. */
static char libbpf_last[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;

	if (getenv("BPFITER_DEBUG")) {
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level == LIBBPF_WARN) {
		static const char prefix[] = "libbpf: ";
		char line[sizeof(libbpf_last)];
		const char *text = line;

		vsnprintf(line, sizeof(line), fmt, ap);
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, prefix, sizeof(prefix) - 1) == 0)
			text += sizeof(prefix) - 1;
		snprintf(libbpf_last, sizeof(libbpf_last), "%s", text);
	}
	return 0;
}

void bpfiter_libbpf_capture(void)
{
	libbpf_last[0] = '\0';
	libbpf_set_print(libbpf_print);
}

const char *bpfiter_libbpf_last(void)
{
	return libbpf_last;
}
