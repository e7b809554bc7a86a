/* The walk object: a link and an iterator fd per walk of a loaded program
 * (program.c), its records taken from the stream (stream.c) and decoded,
 * and everything released on close, __close, __gc or end of walk. */
#include "iterator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decode.h"
#include "record_common.h"
#include "errors.h"
#include "fds.h"
#include "options.h"
#include "program.h"
#include "netns.h"
#include "stream.h"

#define ITERATOR_MT "bpfiter.iterator"

enum iter_state { IT_OPEN, IT_DONE, IT_CLOSED };

struct iterator {
	const struct target *target;
	struct stream stream;	/* the records: read() of the iterator fd */
	int link_fd;		/* kept open so the link stays visible (bpftool link) */
	int held_fd;		/* struct attach's held_fd, or -1 */
	int netns_fd;		/* one_read: the network namespace fd was made in
				 * (made there again), or -1 */
	enum iter_state state;
	uint32_t want;		/* the program variant (program_want) */
	int nkeys;		/* field names are in user value 1 */
	struct projection proj;	/* the fields option */
	_Alignas(8) unsigned char filter[];	/* target->filter_size bytes */
};

/* ---- link and iterator fd ---- */

static void close_attach_fds(struct attach *a)
{
	for (int i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	a->nfds = 0;
}

/* Options at index opts -> a link of variant want of target t's program.
 * Returns the link fd, or pushes the failure triple and returns -1. */
static int create_link(lua_State *L, const struct target *t, int opts, uint32_t want,
		       int *held_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, link_opts);
	struct attach a = { .nfds = 0, .held_fd = -1 };
	int prog_fd, link_fd = -1, err;

	if (held_fd)
		*held_fd = -1;
	if (t->attach && t->attach(L, t, opts, &a))
		return -1;
	prog_fd = program_fd(L, t, want);
	if (prog_fd >= 0) {
		if (a.has_info) {
			link_opts.iter_info = &a.info;
			link_opts.iter_info_len = sizeof(a.info);
		}
		RETRY_AFTER_GC(L, link_fd, bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &link_opts));
	}
	err = errno;
	close_attach_fds(&a);
	if (link_fd >= 0 && held_fd)
		*held_fd = a.held_fd;
	else if (a.held_fd >= 0)
		close(a.held_fd);
	if (prog_fd < 0)
		return -1;	/* program_fd pushed the failure */
	if (link_fd < 0) {
		bpfiter_fail(L, err, t->name, "creating the iterator link failed%s",
			     program_load_hint(err));
		return -1;
	}
	return link_fd;
}

int iterator_create_link(lua_State *L, const struct target *t, int opts, int *held_fd)
{
	return create_link(L, t, opts, program_want(L, t, opts), held_fd);
}

/* ---- the iterator object ---- */

static int iterator_step(lua_State *L);

static void iterator_release(struct iterator *it, enum iter_state state)
{
	stream_close(&it->stream);
	if (it->link_fd >= 0)
		close(it->link_fd);
	if (it->held_fd >= 0)
		close(it->held_fd);
	if (it->netns_fd >= 0)
		close(it->netns_fd);
	it->link_fd = it->held_fd = it->netns_fd = -1;
	if (it->state == IT_OPEN)
		it->state = state;
}

/* What the reader takes from the options at index opts: the target's
 * filter and the projection; the iterator is on top of the stack. */
static void reader_options(lua_State *L, struct iterator *it, int opts)
{
	opts = lua_absindex(L, opts);
	if (it->target->filter_init)
		it->target->filter_init(L, opts, it->filter);
	if (lua_getfield(L, opts, "fields") == LUA_TTABLE) {
		lua_getiuservalue(L, -2, 1);
		decode_project(L, it->target, lua_gettop(L), lua_gettop(L) - 1, &it->proj);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* Wraps a stream (and the link behind it, of program variant want, and the
 * fd its walk holds, or -1) in an iterator and pushes the generic-for quadruple; owns them all
 * from here on (the stream is moved). Reader options, if any, are at index
 * opts (0: none); check: check them here (a view's), where an argument
 * error leaves the cleaning up to the iterator's __gc. */
static int push_iterator(lua_State *L, struct stream *s, int link_fd, int held_fd, int opts,
			 bool check, uint32_t want)
{
	const struct target *t = s->target;
	struct iterator *it = lua_newuserdatauv(L, sizeof(*it) + t->filter_size, 1);

	*it = (struct iterator){
		.target = t, .stream = *s, .link_fd = link_fd, .held_fd = held_fd, .netns_fd = -1,
		.state = IT_OPEN, .want = want, .nkeys = decode_push_keys(L, t),
	};
	memset(it->filter, 0, t->filter_size);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, ITERATOR_MT);
	if (opts) {
		if (check)
			options_check(L, t, opts, OPT_READER);
		reader_options(L, it, opts);
	}

	/* The generic-for quadruple: step, state, initial, closing value. */
	lua_pushcfunction(L, iterator_step);
	lua_insert(L, -2);
	lua_pushnil(L);
	lua_pushvalue(L, -2);
	return 4;
}

/* The iterator fd of a link, made in network namespace netns_fd (>= 0;
 * socket targets: see netns.h) or the thread's own. Returns the fd; -1 with
 * errno; -2 with errno when the thread could not return to its own
 * namespace. */
static int make_iter_fd(lua_State *L, int link_fd, int netns_fd)
{
	int fd;

	if (netns_fd >= 0)
		return netns_iter_create(link_fd, netns_fd);
	RETRY_AFTER_GC(L, fd, bpf_iter_create(link_fd));
	return fd;
}

int iterator_open(lua_State *L)
{
	const struct target *t = lua_touserdata(L, lua_upvalueindex(1));
	struct program *p;
	struct stream s;
	const char *netns;
	int link_fd, held_fd, fd, err, ns = -1, n;
	uint32_t want;

	lua_settop(L, 1);
	options_check(L, t, 1, OPT_KERNEL | OPT_READER | OPT_INTERNAL);
	want = program_want(L, t, 1);
	netns = option_string(L, 1, "netns_path");
	if (netns) {
		RETRY_AFTER_GC(L, ns, netns_open(netns, option_integer(L, 1, "netns_inode", 0)));
		if (ns < 0)
			return bpfiter_fail(L, errno, t->name, "netns %s%s", netns,
					    errno == EINVAL ? " is not a network namespace" :
					    errno == ESTALE ? " is another namespace now" : "");
	}
	link_fd = create_link(L, t, 1, want, &held_fd);
	fd = link_fd >= 0 ? make_iter_fd(L, link_fd, ns) : -1;
	err = fd < 0 ? errno : stream_init(&s, t, fd, t->ring && (p = program_loaded(L, t, want)) ?
					   &p->ring : NULL);
	if (fd < 0 || err) {
		if (ns >= 0)
			close(ns);
		if (link_fd < 0)
			return 3;	/* the failure triple is on top */
		close(link_fd);
		if (held_fd >= 0)
			close(held_fd);
		if (fd == -2)
			return bpfiter_raise(L, err, t->name, "this thread could not return to its "
					     "network namespace");
		return bpfiter_fail(L, err, t->name, "%s", fd < 0 ? "creating the iterator failed" :
				    s.why);
	}
	n = push_iterator(L, &s, link_fd, held_fd, 1, false, want);
	if (n == 4 && t->one_read)	/* the fd may be made again (walk_again_larger) */
		((struct iterator *)lua_touserdata(L, -1))->netns_fd = ns;
	else if (ns >= 0)
		close(ns);
	return n;
}

int iterator_push_view(lua_State *L, struct stream *s, int opts)
{
	return push_iterator(L, s, -1, -1, opts, true, PROGRAM_FULL);
}

/* Another walk may have grown the ring (loaded the program again) since
 * this walk's link and iterator fd were made; the fd holds the program it
 * was made with, whose records would go to the old ring, and the walk
 * would look empty. Then the link gets the current program and the walk a
 * new fd, before anything was read. Returns 0 or an errno. */
static int run_current_program(lua_State *L, struct iterator *it)
{
	struct program *p = program_loaded(L, it->target, it->want);
	struct bpf_link_info link = { 0 };
	struct bpf_prog_info prog = { 0 };
	__u32 link_len = sizeof(link), prog_len = sizeof(prog);
	int fd;

	if (!p)
		return ENOENT;
	if (bpf_obj_get_info_by_fd(it->link_fd, &link, &link_len) ||
	    bpf_obj_get_info_by_fd(p->fd, &prog, &prog_len))
		return errno;
	if (link.prog_id == prog.id)
		return 0;
	if (bpf_link_update(it->link_fd, p->fd, NULL))
		return errno;
	fd = make_iter_fd(L, it->link_fd, it->netns_fd);
	if (fd < 0)
		return errno;
	stream_restart(&it->stream, fd, &p->ring);
	return 0;
}

/* target.one_read: the walk did not fit in the ring (stream.c); loads the
 * program with a larger ring and walks again: the same link (its root,
 * order...) runs the new program, in the namespace the walk was made in.
 * Raises on failure. */
static void walk_again_larger(lua_State *L, struct iterator *it)
{
	const struct target *t = it->target;
	struct program *p;
	char msg[300];
	int err, fd;

	err = program_grow_ring(L, t, it->want, msg, sizeof(msg));
	if (err) {
		char why[400];

		snprintf(why, sizeof(why), "the walk did not fit in one read(): %s", msg);
		iterator_raise(L, it, err, why);
	}
	p = program_loaded(L, t, it->want);
	fd = p && bpf_link_update(it->link_fd, p->fd, NULL) == 0 ?
		make_iter_fd(L, it->link_fd, it->netns_fd) : -1;
	if (fd < 0) {
		err = errno;
		iterator_raise(L, it, err, "walking again with a larger ring failed");
	}
	stream_restart(&it->stream, fd, &p->ring);
}

const void *iterator_next_record(lua_State *L, struct iterator *it)
{
	const void *rec;
	int rc;

	if (it->state != IT_OPEN)
		return NULL;
	if (it->target->one_read && !it->stream.header_seen && it->link_fd >= 0 &&
	    (rc = run_current_program(L, it)) != 0)
		iterator_raise(L, it, rc, "walking with the program of the current ring failed");
	while ((rc = stream_next(&it->stream, &rec)) == STREAM_RING_TOO_SMALL)
		walk_again_larger(L, it);
	if (rc > 0)
		return rec;
	if (rc == 0) {
		iterator_release(it, IT_DONE);
		return NULL;
	}
	iterator_raise(L, it, -rc, it->stream.why);
	return NULL;
}

void iterator_decode(lua_State *L, struct iterator *it, const void *rec)
{
	lua_getiuservalue(L, 1, 1);	/* the field names; the iterator is at 1 */
	decode_record(L, it->target, rec, lua_gettop(L), it->nkeys, &it->proj);
	lua_remove(L, -2);
}

int iterator_raise(lua_State *L, struct iterator *it, int err, const char *why)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s", why);	/* why may live in the stream */
	iterator_release(it, IT_DONE);
	if (it->target->release)
		it->target->release(it->filter);
	return bpfiter_raise(L, err, it->target->name, "%s", msg);
}

static int iterator_step(lua_State *L)
{
	struct iterator *it = luaL_checkudata(L, 1, ITERATOR_MT);
	const void *item;

	if (it->state == IT_CLOSED)
		return luaL_error(L, "bpfiter: %s: iterator is closed", it->target->name);
	if (it->target->step) {
		int n = it->target->step(L, it, it->filter);

		if (n == 0 && it->target->release)
			it->target->release(it->filter);
		if (n == 1 && it->proj.active && lua_istable(L, -1)) {
			/* a step adds fields of its own after decoding */
			lua_getiuservalue(L, 1, 1);
			lua_insert(L, -2);
			decode_drop_unasked(L, lua_gettop(L) - 1);
			lua_remove(L, -2);
		}
		return n;
	}
	while ((item = iterator_next_record(L, it))) {
		if (it->target->skip && it->target->skip(item, it->filter))
			continue;
		iterator_decode(L, it, item);
		return 1;
	}
	return 0;
}

static int iterator_close(lua_State *L)
{
	struct iterator *it = luaL_checkudata(L, 1, ITERATOR_MT);

	iterator_release(it, IT_CLOSED);
	it->state = IT_CLOSED;
	if (it->target->release)
		it->target->release(it->filter);
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

	program_register(L);
}
