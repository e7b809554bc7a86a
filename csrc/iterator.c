/* The generic iterator: load a target's program once per Lua state, create
 * a link and an iterator fd per walk, read records and decode them, and
 * release everything on close, __close, __gc or end of walk. */
#include "iterator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decode.h"
#include "record_common.h"
#include "errors.h"

#define ITERATOR_MT "bpfiter.iterator"
#define PROGRAMS_MT "bpfiter.program"
#define PROGRAMS_KEY "bpfiter.programs"
#define READ_BUFFER (64 * 1024)

enum iter_state { IT_OPEN, IT_DONE, IT_CLOSED };

struct iterator {
	const struct target *target;
	int fd;			/* iterator: read() yields records */
	int link_fd;		/* kept open so the link stays visible (bpftool link) */
	enum iter_state state;
	bool header_checked;
	bool trailer_seen;	/* the kernel said the walk is complete */
	int tail_offset;
	char *buf;
	size_t start, end;	/* unread bytes are buf[start, end) */
	_Alignas(8) unsigned char filter[];	/* target->filter_size bytes */
};

/* ---- programs: loaded once per Lua state, closed with it ---- */

struct program {
	struct bpf_object *obj;
	int fd;
};

static int program_gc(lua_State *L)
{
	struct program *p = luaL_checkudata(L, 1, PROGRAMS_MT);

	if (p->obj)
		bpf_object__close(p->obj);
	p->obj = NULL;
	return 0;
}

static const char *load_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return " (needs root, or CAP_BPF and CAP_PERFMON)";
	return "";
}

/* Returns the program fd, or pushes the failure triple and returns -1. */
static int program_fd(lua_State *L, const struct target *t)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = t->name);
	struct bpf_program *prog;
	struct program *p;
	const void *bytes;
	size_t size;
	int err;

	lua_getfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	lua_getfield(L, -1, t->name);
	p = lua_touserdata(L, -1);
	if (p && p->obj) {
		lua_pop(L, 2);
		return p->fd;
	}
	lua_pop(L, 1);

	p = lua_newuserdatauv(L, sizeof(*p), 0);
	p->obj = NULL;
	luaL_setmetatable(L, PROGRAMS_MT);

	bpfiter_libbpf_capture();
	bytes = t->elf_bytes(&size);
	p->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!p->obj) {
		err = errno;
		lua_pop(L, 2);
		bpfiter_fail(L, err, t->name, "opening the BPF object failed");
		return -1;
	}
	err = -bpf_object__load(p->obj);
	prog = bpf_object__find_program_by_name(p->obj, t->program);
	if (err || !prog) {
		const char *why = bpfiter_libbpf_last();
		char detail[300];

		err = err ? err : ENOENT;
		snprintf(detail, sizeof(detail), "%s%s%s",
			 *why ? " [libbpf: " : "", why, *why ? "]" : "");
		bpf_object__close(p->obj);
		p->obj = NULL;
		lua_pop(L, 2);
		bpfiter_fail(L, err, t->name, "loading the BPF program failed%s%s",
			     load_hint(err), detail);
		return -1;
	}
	p->fd = bpf_program__fd(prog);
	lua_setfield(L, -2, t->name);
	lua_pop(L, 1);
	return p->fd;
}

/* ---- options ---- */

static const char *option_type_name(enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return "an integer";
	case OPT_BOOLEAN: return "a boolean";
	case OPT_STRING: return "a string";
	case OPT_INTEGER_OR_STRING: return "an integer or a string";
	}
	return "?";
}

static bool option_type_ok(lua_State *L, int idx, enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return lua_isinteger(L, idx);
	case OPT_BOOLEAN: return lua_isboolean(L, idx);
	case OPT_STRING: return lua_type(L, idx) == LUA_TSTRING;
	case OPT_INTEGER_OR_STRING:
		return lua_isinteger(L, idx) || lua_type(L, idx) == LUA_TSTRING;
	}
	return false;
}

/* Checks every key of the options table (argument 1) against the target's
 * list; raises the argument error a wrong name or type deserves. */
static void check_options(lua_State *L, const struct target *t)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);	/* hooks can always read index 1 */
		return;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const struct option *o = NULL;
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

		for (const struct option *p = t->options; key && p && p->name; p++)
			if (strcmp(p->name, key) == 0)
				o = p;
		if (!o)
			bpfiter_argerror(L, 1, "unknown option '%s' for %s",
					 key ? key : luaL_tolstring(L, -2, NULL), t->name);
		if (!option_type_ok(L, -1, o->type))
			bpfiter_argerror(L, 1, "option '%s' must be %s, got %s", o->name,
					 option_type_name(o->type), luaL_typename(L, -1));
		lua_pop(L, 1);
	}
}

/* ---- link and iterator fd ---- */

static void close_attach_fds(struct attach *a)
{
	for (int i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	a->nfds = 0;
}

/* Creates the link and the iterator fd; returns 0, or pushes the failure
 * triple and returns 3. An fd-creating call failing with EMFILE gets one
 * retry after a full collection: dropped iterators hold fds until then. */
static int create_iter_fd(lua_State *L, const struct target *t, int prog_fd,
			  struct attach *a, int *iter_fd, int *link_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int err;

	if (a->has_info) {
		opts.iter_info = &a->info;
		opts.iter_info_len = sizeof(a->info);
	}
	*link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &opts);
	if (*link_fd < 0 && errno == EMFILE) {
		lua_gc(L, LUA_GCCOLLECT);
		*link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &opts);
	}
	err = errno;
	close_attach_fds(a);
	if (*link_fd < 0)
		return bpfiter_fail(L, err, t->name, "creating the iterator link failed%s",
				    load_hint(err));
	*iter_fd = bpf_iter_create(*link_fd);
	if (*iter_fd < 0 && errno == EMFILE) {
		lua_gc(L, LUA_GCCOLLECT);
		*iter_fd = bpf_iter_create(*link_fd);
	}
	if (*iter_fd < 0) {
		err = errno;
		close(*link_fd);
		return bpfiter_fail(L, err, t->name, "creating the iterator failed");
	}
	return 0;
}

/* ---- the iterator object ---- */

static int iterator_step(lua_State *L);

static void iterator_release(struct iterator *it, enum iter_state state)
{
	if (it->fd >= 0)
		close(it->fd);
	if (it->link_fd >= 0)
		close(it->link_fd);
	it->fd = it->link_fd = -1;
	free(it->buf);
	it->buf = NULL;
	if (it->state == IT_OPEN)
		it->state = state;
}

int iterator_open(lua_State *L)
{
	const struct target *t = lua_touserdata(L, lua_upvalueindex(1));
	struct attach attach = { .nfds = 0 };
	struct iterator *it;
	int prog_fd, fd = -1, link_fd = -1;
	char *buf;

	check_options(L, t);
	if (t->attach && t->attach(L, t, &attach))
		return 3;
	prog_fd = program_fd(L, t);
	if (prog_fd < 0) {
		close_attach_fds(&attach);
		return 3;
	}
	if (create_iter_fd(L, t, prog_fd, &attach, &fd, &link_fd))
		return 3;

	buf = malloc(READ_BUFFER);
	if (!buf) {
		close(fd);
		close(link_fd);
		return bpfiter_fail(L, ENOMEM, t->name, "read buffer");
	}
	it = lua_newuserdatauv(L, sizeof(*it) + t->filter_size, 0);
	*it = (struct iterator){
		.target = t, .fd = fd, .link_fd = link_fd, .state = IT_OPEN,
		.tail_offset = decode_tail_offset(t), .buf = buf,
	};
	luaL_setmetatable(L, ITERATOR_MT);
	if (t->filter_init)
		t->filter_init(L, it->filter);	/* options are still at index 1 */

	/* The generic-for quadruple: step, state, initial, closing value. */
	lua_pushcfunction(L, iterator_step);
	lua_insert(L, -2);
	lua_pushnil(L);
	lua_pushvalue(L, -2);
	return 4;
}

/* Next complete record in the buffer, or NULL when more must be read. */
static const char *buffered_record(struct iterator *it, size_t *len)
{
	size_t have = it->end - it->start;
	const char *p = it->buf + it->start;

	if (have < it->target->record_size)
		return NULL;
	*len = decode_record_length(it->target, it->tail_offset, p);
	return have >= *len ? p : NULL;
}

/* Reads more records; returns bytes read, 0 at end of walk. Raises on error. */
static size_t refill(lua_State *L, struct iterator *it)
{
	ssize_t n;

	memmove(it->buf, it->buf + it->start, it->end - it->start);
	it->end -= it->start;
	it->start = 0;
	do
		n = read(it->fd, it->buf + it->end, READ_BUFFER - it->end);
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (n < 0) {
		int err = errno;
		const char *name = it->target->name;

		iterator_release(it, IT_DONE);
		bpfiter_raise(L, err, name, "reading the iterator failed%s",
			      err == E2BIG ? " (one object produced more than the"
					     " kernel's per-object limit)" : "");
	}
	it->end += (size_t)n;
	return (size_t)n;
}

/* Raises with a reason, after releasing the iterator. */
static void stream_error(lua_State *L, struct iterator *it, const char *why)
{
	const char *name = it->target->name;

	iterator_release(it, IT_DONE);
	bpfiter_raise(L, EPROTO, name, "%s", why);
}

/* Consumes the header or trailer at the read position; raises unless it is
 * one of the expected target. */
static void consume_frame(lua_State *L, struct iterator *it, uint32_t want)
{
	char why[160];
	uint32_t kind;

	if (!decode_header(it->buf + it->start, it->target, &kind, why, sizeof(why)))
		stream_error(L, it, why);
	if (kind != want && !(want == BPFITER_STREAM_BEGIN && kind == BPFITER_STREAM_END))
		stream_error(L, it, "stream header out of place");
	it->start += sizeof(struct bpfiter_header);
	it->trailer_seen = kind == BPFITER_STREAM_END;
}

static void check_stream_header(lua_State *L, struct iterator *it)
{
	while (it->end - it->start < sizeof(struct bpfiter_header))
		if (refill(L, it) == 0)
			stream_error(L, it, "stream ended before its header");
	consume_frame(L, it, BPFITER_STREAM_BEGIN);
	it->header_checked = true;
}

/* At end of input: what is left must be exactly the trailer. Records are
 * longer than the trailer, so a trailer never looks like a whole record. */
static void finish_stream(lua_State *L, struct iterator *it)
{
	size_t left = it->end - it->start;

	if (!it->trailer_seen && left == sizeof(struct bpfiter_header))
		consume_frame(L, it, BPFITER_STREAM_END);
	else if (left)
		stream_error(L, it, "walk ended inside a record");
	if (!it->trailer_seen)
		stream_error(L, it, "walk was cut short (no end-of-stream trailer)");
	iterator_release(it, IT_DONE);
}

static int iterator_step(lua_State *L)
{
	struct iterator *it = luaL_checkudata(L, 1, ITERATOR_MT);
	const char *rec;
	size_t len;

	if (it->state == IT_CLOSED)
		return luaL_error(L, "bpfiter: %s: iterator is closed", it->target->name);
	if (it->state == IT_OPEN && !it->header_checked)
		check_stream_header(L, it);
	while (it->state == IT_OPEN) {
		rec = buffered_record(it, &len);
		if (rec) {
			it->start += len;
			if (it->target->skip && it->target->skip(rec, it->filter))
				continue;
			decode_record(L, it->target, rec);
			return 1;
		}
		if (refill(L, it) == 0)
			finish_stream(L, it);
	}
	return 0;
}

static int iterator_close(lua_State *L)
{
	struct iterator *it = luaL_checkudata(L, 1, ITERATOR_MT);

	iterator_release(it, IT_CLOSED);
	it->state = IT_CLOSED;
	return 0;
}

static int iterator_tostring(lua_State *L)
{
	struct iterator *it = luaL_checkudata(L, 1, ITERATOR_MT);
	static const char *names[] = { "open", "done", "closed" };

	lua_pushfstring(L, ITERATOR_MT ": %s (%s)", it->target->name, names[it->state]);
	return 1;
}

void iterator_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "close", iterator_close },
		{ "next", iterator_step },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__call", iterator_step },
		{ "__close", iterator_close },
		{ "__gc", iterator_close },
		{ "__tostring", iterator_tostring },
		{ NULL, NULL },
	};

	if (luaL_newmetatable(L, ITERATOR_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);

	if (luaL_newmetatable(L, PROGRAMS_MT)) {
		lua_pushcfunction(L, program_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);

	lua_getfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	if (lua_isnil(L, -1)) {
		lua_newtable(L);
		lua_setfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	}
	lua_pop(L, 1);
}
