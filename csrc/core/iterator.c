/* The walk object: a link and an iterator fd per walk of a loaded program
 * (program.c), records read and decoded, and everything released on close,
 * __close, __gc or end of walk. */
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
#include "fds.h"
#include "options.h"
#include "program.h"
#include "netns.h"

#define ITERATOR_MT "bpfiter.iterator"
#define READ_BUFFER ITERATOR_READ_BUFFER

enum iter_state { IT_OPEN, IT_DONE, IT_CLOSED };

struct iterator {
	const struct target *target;
	int fd;			/* iterator: read() yields records */
	int link_fd;		/* kept open so the link stays visible (bpftool link) */
	int held_fd;		/* struct attach's held_fd, or -1 */
	int netns_fd;		/* one_read: the network namespace fd was made in
				 * (made there again), or -1 */
	enum iter_state state;
	bool header_seen;
	bool trailer_seen;	/* the kernel reached the end of its walk */
	int nkeys;		/* field names are in user value 1 */
	struct projection proj;	/* the fields option */
	char *buf;
	size_t start, end;	/* unread bytes are buf[start, end) */
	/* Targets with a ring (target.ring): what each read() put there, in
	 * the order the program wrote it, until the stream says where. */
	struct program *ring;	/* whose ring; NULL: none */
	char *rbuf;
	size_t rstart, rend, rcap;	/* unread items are rbuf[rstart, rend) */
	uint32_t ring_due;	/* items the last marker announced, still to take */
	bool whole_read;	/* target.one_read: the walk was read, complete */
	int ring_err;		/* the ring held something that is not an item */
	_Alignas(8) unsigned char filter[];	/* target->filter_size bytes */
};

/* ---- link and iterator fd ---- */

static void close_attach_fds(struct attach *a)
{
	for (int i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	a->nfds = 0;
}

/* Options at index opts -> a link of target t. Returns the link fd, or
 * pushes the failure triple and returns -1. */
int iterator_create_link(lua_State *L, const struct target *t, int opts, int *held_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, link_opts);
	struct attach a = { .nfds = 0, .held_fd = -1 };
	int prog_fd, link_fd = -1, err;

	if (held_fd)
		*held_fd = -1;
	if (t->attach && t->attach(L, t, opts, &a))
		return -1;
	prog_fd = program_fd(L, t);
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

/* ---- the iterator object ---- */

static int iterator_step(lua_State *L);

static void iterator_release(struct iterator *it, enum iter_state state)
{
	if (it->fd >= 0)
		close(it->fd);
	if (it->link_fd >= 0)
		close(it->link_fd);
	if (it->held_fd >= 0)
		close(it->held_fd);
	if (it->netns_fd >= 0)
		close(it->netns_fd);
	it->fd = it->link_fd = it->held_fd = it->netns_fd = -1;
	free(it->buf);
	it->buf = NULL;
	it->ring = NULL;
	free(it->rbuf);
	it->rbuf = NULL;
	it->rstart = it->rend = it->rcap = 0;
	if (it->state == IT_OPEN)
		it->state = state;
}

/* Appends one item the program put in the ring to its reader's rbuf. */
static int ring_item(void *reader, const void *data, size_t size)
{
	struct iterator *it = reader;

	if (size < sizeof(struct bpfiter_record_head) ||
	    ((const struct bpfiter_record_head *)data)->kind != BPFITER_KIND_RECORD ||
	    decode_item_length(it->target, data) != size) {
		it->ring_err = EPROTO;
		return -EPROTO;
	}
	if (it->rend + size > it->rcap) {
		size_t cap = it->rcap ? it->rcap : 64 * 1024;
		char *p;

		if (it->rstart > 0) {	/* everything before rstart was taken */
			memmove(it->rbuf, it->rbuf + it->rstart, it->rend - it->rstart);
			it->rend -= it->rstart;
			it->rstart = 0;
		}
		while (cap < it->rend + size)
			cap *= 2;
		if (cap != it->rcap) {
			p = realloc(it->rbuf, cap);
			if (!p) {
				it->ring_err = ENOMEM;
				return -ENOMEM;
			}
			it->rbuf = p;
			it->rcap = cap;
		}
	}
	memcpy(it->rbuf + it->rend, data, size);
	it->rend += size;
	return 0;
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

/* Wraps a stream fd (and the link behind it and the fd its walk holds, or
 * -1) in an iterator and pushes the generic-for quadruple; owns the fds
 * from here on. Reader options, if any, are at index opts (0: none). ring:
 * the program whose ring the walk reads, or NULL. */
static int push_iterator(lua_State *L, const struct target *t, int fd, int link_fd, int held_fd,
			 int opts, struct program *ring)
{
	struct iterator *it;
	char *buf = malloc(READ_BUFFER);

	if (!buf) {
		close(fd);
		if (link_fd >= 0)
			close(link_fd);
		if (held_fd >= 0)
			close(held_fd);
		return bpfiter_fail(L, ENOMEM, t->name, "read buffer");
	}
	it = lua_newuserdatauv(L, sizeof(*it) + t->filter_size, 1);
	*it = (struct iterator){
		.target = t, .fd = fd, .link_fd = link_fd, .held_fd = held_fd, .netns_fd = -1,
		.state = IT_OPEN,
		.buf = buf, .nkeys = decode_push_keys(L, t), .ring = ring,
	};
	memset(it->filter, 0, t->filter_size);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, ITERATOR_MT);
	if (opts)
		reader_options(L, it, opts);

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
	const char *netns;
	int link_fd, held_fd, fd, ns = -1, n;

	lua_settop(L, 1);
	options_check(L, t, 1, OPT_KERNEL | OPT_READER | OPT_INTERNAL);
	netns = option_string(L, 1, "netns_path");
	if (netns) {
		RETRY_AFTER_GC(L, ns, netns_open(netns, option_integer(L, 1, "netns_inode", 0)));
		if (ns < 0)
			return bpfiter_fail(L, errno, t->name, "netns %s%s", netns,
					    errno == EINVAL ? " is not a network namespace" :
					    errno == ESTALE ? " is another namespace now" : "");
	}
	link_fd = iterator_create_link(L, t, 1, &held_fd);
	fd = link_fd >= 0 ? make_iter_fd(L, link_fd, ns) : -1;
	if (fd < 0) {
		int err = errno;

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
		return bpfiter_fail(L, err, t->name, "creating the iterator failed");
	}
	n = push_iterator(L, t, fd, link_fd, held_fd, 1, t->ring ? program_loaded(L, t) : NULL);
	if (n == 4 && t->one_read)	/* the fd may be made again (read_whole_walk) */
		((struct iterator *)lua_touserdata(L, -1))->netns_fd = ns;
	else if (ns >= 0)
		close(ns);
	return n;
}

int iterator_push_view(lua_State *L, const struct target *t, int fd, uint32_t kind, int opts,
		       const void *rest, size_t rest_len)
{
	struct iterator *it;
	int n = push_iterator(L, t, fd, -1, -1, 0, NULL);

	if (n != 4)
		return n;
	it = lua_touserdata(L, -1);
	options_check(L, t, opts, OPT_READER);
	reader_options(L, it, opts);
	it->header_seen = true;
	it->trailer_seen = kind == BPFITER_KIND_END;
	memcpy(it->buf, rest, rest_len);
	it->end = rest_len;
	return n;
}

/* Moves what the last read() put in the ring to it->rbuf; returns whether
 * there was anything. Raises on error. */
static bool drain_ring(lua_State *L, struct iterator *it)
{
	size_t before = it->rend - it->rstart;
	int n;

	if (!it->ring || !it->ring->ring)
		return false;
	it->ring->reader = it;
	it->ring->on_item = ring_item;
	n = ring_buffer__consume(it->ring->ring);
	if (n < 0 || it->ring_err) {
		const char *name = it->target->name;
		int err = it->ring_err ? it->ring_err : -n;

		iterator_release(it, IT_DONE);
		bpfiter_raise(L, err, name, "reading the ring buffer failed");
	}
	return it->rend - it->rstart > before;
}

/* One read() that EINTR does not cut short. */
static ssize_t read_fully(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Another walk may have grown the ring (loaded the program again) since
 * this walk's link and iterator fd were made; the fd holds the program it
 * was made with, whose records would go to the old ring, and the walk
 * would look empty. Then the link gets the current program and the walk a
 * new fd. Returns 0 or an errno. */
static int run_current_program(lua_State *L, struct iterator *it)
{
	struct bpf_link_info link = { 0 };
	struct bpf_prog_info prog = { 0 };
	__u32 link_len = sizeof(link), prog_len = sizeof(prog);
	int fd;

	if (!it->ring->loaded)
		return ENOENT;
	if (bpf_obj_get_info_by_fd(it->link_fd, &link, &link_len) ||
	    bpf_obj_get_info_by_fd(it->ring->fd, &prog, &prog_len))
		return errno;
	if (link.prog_id == prog.id)
		return 0;
	if (bpf_link_update(it->link_fd, it->ring->fd, NULL))
		return errno;
	fd = make_iter_fd(L, it->link_fd, it->netns_fd);
	if (fd < 0)
		return errno;
	close(it->fd);
	it->fd = fd;
	return 0;
}

/* target.one_read: the whole walk in the first read(), which a second
 * read() must confirm by finding nothing more (the kernel went on from
 * where the first stopped: the ring filled, or its limit of a million
 * objects per read() cut the walk). Then the program is loaded with a
 * larger ring and the walk starts again; nothing was taken from it yet. */
static void read_whole_walk(lua_State *L, struct iterator *it)
{
	const struct target *t = it->target;
	char msg[300], more[sizeof(struct bpfiter_header)];
	ssize_t n, again;
	int err;

	err = run_current_program(L, it);
	if (err) {
		iterator_release(it, IT_DONE);
		bpfiter_raise(L, err, t->name, "walking with the program of the current ring failed");
	}
	for (;;) {
		n = read_fully(it->fd, it->buf + it->end, READ_BUFFER - it->end);
		err = errno;
		again = n > 0 ? read_fully(it->fd, more, sizeof(more)) : -1;
		drain_ring(L, it);
		if (n == 0 || (n > 0 && again == 0))
			break;	/* (nothing at all: finish_stream says the walk was cut short) */
		if (n < 0 && err != EAGAIN) {
			iterator_release(it, IT_DONE);
			bpfiter_raise(L, err, t->name, "reading the iterator failed");
		}
		it->rstart = it->rend = 0;	/* an incomplete walk: dropped */
		close(it->fd);
		it->fd = -1;
		err = program_grow_ring(L, t, msg, sizeof(msg));
		if (err) {
			iterator_release(it, IT_DONE);
			bpfiter_raise(L, err, t->name, "the walk did not fit in one read(): %s", msg);
		}
		/* The same link (its root, order...) runs the new program. */
		it->ring = program_loaded(L, t);
		if (bpf_link_update(it->link_fd, it->ring->fd, NULL) == 0)
			it->fd = make_iter_fd(L, it->link_fd, it->netns_fd);
		if (it->fd < 0) {
			err = errno;
			iterator_release(it, IT_DONE);
			bpfiter_raise(L, err, t->name, "walking again with a larger ring failed");
		}
	}
	it->end += (size_t)n;	/* n >= 0 */
	it->whole_read = true;
}

/* read() gives EAGAIN when the program asked to see its object again and
 * nothing else was read. Our programs bound that themselves (and say so in
 * the stream); this bounds any other program a view may hold: no legitimate
 * walk asks this often in a row without producing anything. */
#define MAX_IDLE_READS (1 << 16)

/* Reads more of the stream (and empties the ring); returns false at the
 * end of input. Raises on error. */
static bool refill(lua_State *L, struct iterator *it)
{
	unsigned idle = 0;
	bool ring_more;
	ssize_t n;
	int err;

	if (it->target->one_read && it->ring) {
		if (it->whole_read)
			return false;
		read_whole_walk(L, it);
		return true;
	}

	memmove(it->buf, it->buf + it->start, it->end - it->start);
	it->end -= it->start;
	it->start = 0;
	for (;;) {
		n = read(it->fd, it->buf + it->end, READ_BUFFER - it->end);
		err = n < 0 ? errno : 0;
		/* A program that filled the ring asks the kernel to show its
		 * object again (EAGAIN when nothing else was read): what it
		 * wrote to the ring comes first. */
		ring_more = (n >= 0 || err == EAGAIN) && drain_ring(L, it);
		if (n >= 0 || ring_more || (err != EINTR && err != EAGAIN) ||
		    (err == EAGAIN && ++idle >= MAX_IDLE_READS))
			break;
	}
	if (n < 0 && !ring_more) {
		const char *name = it->target->name;

		iterator_release(it, IT_DONE);
		bpfiter_raise(L, err, name, "reading the iterator failed%s",
			      err == EAGAIN ? " (the kernel program kept asking to see the"
					      " same object again without producing anything)" :
			      err == E2BIG ? " (one object produced more than the"
					     " kernel's per-object limit)" :
			      /* a pinned cgroups view: one kernel buffer, no second read */
			      err == EOPNOTSUPP ? " (the walk outgrew the one kernel"
						  " buffer a pinned view of this iterator"
						  " has: pin a smaller subtree)" : "");
	}
	if (n > 0)
		it->end += (size_t)n;
	return n > 0 || ring_more;
}

/* Raises with a reason, after releasing the iterator. */
static void stream_error(lua_State *L, struct iterator *it, const char *why)
{
	const char *name = it->target->name;

	iterator_release(it, IT_DONE);
	bpfiter_raise(L, EPROTO, name, "%s", why);
}

/* The program gave up on an object (bpf/common/record_common.h): raises
 * with the reason, after releasing the iterator. */
static void program_gave_up(lua_State *L, struct iterator *it, const void *item)
{
	const char *name = it->target->name;
	struct bpfiter_error_marker m;

	memcpy(&m, item, sizeof(m));
	iterator_release(it, IT_DONE);
	if (m.reason == BPFITER_GAVE_UP_RESHOWN)
		bpfiter_raise(L, EAGAIN, name, "the kernel program gave up on an object it had "
			      "to show again too often (its kernel state kept changing)");
	bpfiter_raise(L, EPROTO, name, "the kernel program gave up (reason %u)", m.reason);
}

/* Checks a header or trailer; the first item of a stream must be one. */
static void consume_frame(lua_State *L, struct iterator *it, const char *p)
{
	char why[160];
	uint32_t kind;

	if (!decode_header(p, it->target, &kind, why, sizeof(why)))
		stream_error(L, it, why);
	if (kind == BPFITER_KIND_BEGIN && it->header_seen)
		stream_error(L, it, "stream header out of place");
	it->header_seen = true;
	if (kind == BPFITER_KIND_END)
		it->trailer_seen = true;
}

/* Next complete item in the buffer, or NULL when more must be read. */
static const char *buffered_item(lua_State *L, struct iterator *it, size_t *len)
{
	size_t have = it->end - it->start;
	const char *p = it->buf + it->start;

	if (have < sizeof(struct bpfiter_record_head))
		return NULL;
	*len = decode_item_length(it->target, p);
	if (*len == 0 || (!it->header_seen && *len != sizeof(struct bpfiter_header)))
		stream_error(L, it, "not a bpfiter stream (bad item kind)");
	return have >= *len ? p : NULL;
}

/* At end of input nothing may be left over, and the kernel must have said
 * it reached the end (where it can: see no_end_call). */
static void finish_stream(lua_State *L, struct iterator *it)
{
	if (it->end != it->start)
		stream_error(L, it, "walk ended inside a record");
	if (it->ring_due || it->rstart != it->rend)
		stream_error(L, it, "the stream and the ring buffer disagree");
	if (!it->trailer_seen && !it->target->no_end_call)
		stream_error(L, it, "walk was cut short (no end-of-walk trailer)");
	iterator_release(it, IT_DONE);
}

/* Takes the item at the front of rbuf (checked when it was drained). */
static const char *take_ring_item(struct iterator *it)
{
	const char *item = it->rbuf + it->rstart;

	it->rstart += decode_item_length(it->target, item);
	if (it->rstart == it->rend)
		it->rstart = it->rend = 0;	/* the next drain starts at the front */
	return item;
}

const void *iterator_next_record(lua_State *L, struct iterator *it)
{
	struct bpfiter_ring_marker mark;
	const char *item;
	size_t len;

	while (it->state == IT_OPEN) {
		if (it->ring_due > 0) {
			if (it->rstart == it->rend)
				stream_error(L, it, "the stream announced records the ring buffer does not hold");
			it->ring_due--;
			return take_ring_item(it);
		}
		item = buffered_item(L, it, &len);
		if (item) {
			it->start += len;
			switch (((const struct bpfiter_record_head *)item)->kind) {
			case BPFITER_KIND_RECORD:
				return item;
			case BPFITER_KIND_RING:
				if (!it->ring)
					stream_error(L, it, "ring buffer marker in a stream without one");
				memcpy(&mark, item, sizeof(mark));
				it->ring_due = mark.count;
				break;
			case BPFITER_KIND_ERROR:
				program_gave_up(L, it, item);
				break;
			default:
				consume_frame(L, it, item);
			}
			continue;
		}
		/* What a read() left in the ring after its last marker belongs to
		 * the object the kernel shows again first in the next read(). */
		if (it->start == it->end && it->rstart < it->rend)
			return take_ring_item(it);
		if (!refill(L, it))
			finish_stream(L, it);
	}
	return NULL;
}

void iterator_decode(lua_State *L, struct iterator *it, const void *rec)
{
	lua_getiuservalue(L, 1, 1);	/* the field names; the iterator is at 1 */
	decode_record(L, it->target, rec, lua_gettop(L), it->nkeys, &it->proj);
	lua_remove(L, -2);
}

int iterator_abort(lua_State *L, struct iterator *it, int err, const char *why)
{
	const char *name = it->target->name;

	iterator_release(it, IT_DONE);
	if (it->target->release)
		it->target->release(it->filter);
	return bpfiter_raise(L, err, name, "%s", why);
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
