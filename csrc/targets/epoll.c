/* epoll: one record per registered item of every epoll set, its target
 * file resolved in the same walk. The program sends two kinds of records
 * (bpf/epoll_record.h): items, and the fds whose files some epoll watches,
 * with their paths. An item's file may sit at a later fd of the same
 * table, so the step gathers one table's records at a time and joins them
 * on the file's id. */
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "errors.h"
#include "file_kind.h"
#include "options.h"
#include "iterator.h"
#include "epoll_record.h"
#include "epoll.skel.h"

static const struct field epoll_fields[] = {
	FIELD(epoll_record, pid, F_U32, "pid", "", "process id"),
	FIELD(epoll_record, epfd, F_S32, "epfd", "", "the epoll fd in the process"),
	FIELD(epoll_record, tfd, F_S32, "tfd", "", "target fd number as registered (fdinfo tfd:)"),
	FIELD(epoll_record, events, F_U32, "events", "", "registered event mask (EPOLL* bits)"),
	FIELD(epoll_record, data, F_U64, "data", "", "the 64-bit user data"),
	FIELD(epoll_record, ino, F_U64, "inode", "", "target's inode number"),
	FIELD(epoll_record, dev, F_DEV, "dev", "", "target's filesystem device, as st_dev"),
	FIELD(epoll_record, same_file, F_BOOL, "same_file", "", "tfd still refers to the registered file"),
	FIELD(epoll_record, epoll_id, F_U64, "epoll_id", "", "opaque id of the epoll set, the same for every fd sharing it"),
	FIELDS_END,
};

/* Bits of epoll_event.events, in bit order (uapi/linux/eventpoll.h). */
static const struct { uint32_t bit; const char *name; } event_bits[] = {
	{ 0x001, "EPOLLIN" }, { 0x002, "EPOLLPRI" }, { 0x004, "EPOLLOUT" },
	{ 0x008, "EPOLLERR" }, { 0x010, "EPOLLHUP" }, { 0x020, "EPOLLNVAL" },
	{ 0x040, "EPOLLRDNORM" }, { 0x080, "EPOLLRDBAND" }, { 0x100, "EPOLLWRNORM" },
	{ 0x200, "EPOLLWRBAND" }, { 0x400, "EPOLLMSG" }, { 0x2000, "EPOLLRDHUP" },
	{ 1u << 27, "EPOLLURING_WAKE" }, { 1u << 28, "EPOLLEXCLUSIVE" },
	{ 1u << 29, "EPOLLWAKEUP" }, { 1u << 30, "EPOLLONESHOT" }, { 1u << 31, "EPOLLET" },
};

/* "EPOLLIN|EPOLLET"; bits without a name as one hex number at the end.
 * (Built by hand: snprintf was a visible share of a walk.) */
static void push_event_names(lua_State *L, uint32_t events)
{
	char buf[256];
	size_t n = 0;
	uint32_t rest = events;

	for (size_t i = 0; i < sizeof(event_bits) / sizeof(event_bits[0]); i++) {
		size_t len;

		if (!(events & event_bits[i].bit))
			continue;
		if (n)
			buf[n++] = '|';
		len = strlen(event_bits[i].name);
		memcpy(buf + n, event_bits[i].name, len);
		n += len;
		rest &= ~event_bits[i].bit;
	}
	if (rest)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s0x%x", n ? "|" : "", rest);
	lua_pushlstring(L, buf, n);
}

/* The same, from a table in the registry (mask -> string): most sets use a
 * few masks, and building and interning the string for every item was a
 * tenth of a walk. At most NAMES_CACHED masks; t[0] counts them. */
#define NAMES_CACHED 4096
static const char names_cache_key;

static void push_event_names_cached(lua_State *L, uint32_t events)
{
	lua_Integer n;

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &names_cache_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 32);
		lua_pushinteger(L, 0);
		lua_rawseti(L, -2, 0);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &names_cache_key);
	}
	if (lua_rawgeti(L, -1, (lua_Integer)events + 1) == LUA_TSTRING) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	lua_rawgeti(L, -1, 0);
	n = lua_tointeger(L, -1) + 1;
	lua_pop(L, 1);
	if (n > NAMES_CACHED) {		/* start over */
		lua_pushnil(L);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &names_cache_key);
		n = 1;
	}
	lua_pushinteger(L, n);
	lua_rawseti(L, -2, 0);
	push_event_names(L, events);
	lua_pushvalue(L, -1);
	lua_rawseti(L, -3, (lua_Integer)events + 1);
	lua_remove(L, -2);
}

/* ---- one fd table's records ---- */

struct epoll_walk {
	lua_Integer epfd;	/* only this epoll fd; -1: every one */
	char *buf;		/* the records, as the stream had them */
	size_t len, cap;
	size_t carry;		/* the last `carry` bytes begin the next table */
	size_t *items, nitems, items_cap;	/* offsets into buf */
	size_t *files, nfiles, files_cap;	/* FILE records, in fd order */
	size_t *by_id, by_id_cap;	/* files by file_id: offset + 1, 0 empty */
	size_t by_id_mask;	/* its size - 1, a power of 2 */
	size_t next;		/* next item to yield */
	uint32_t tid;		/* whose table */
	bool eof;
};

static const struct epoll_record *rec_at(const struct epoll_walk *w, size_t off)
{
	return (const struct epoll_record *)(w->buf + off);
}

static size_t rec_size(const struct epoll_record *r)
{
	return sizeof(*r) + BPFITER_TAIL_PADDED(r->tail_len);
}

static bool grow(void **p, size_t *cap, size_t need, size_t unit)
{
	size_t n = *cap ? *cap : 256;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * unit);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* Files and items of the record at off go into the indexes. */
static bool index_record(struct epoll_walk *w, size_t off)
{
	const struct epoll_record *r = rec_at(w, off);

	if (r->type == EPOLL_REC_FILE) {
		if (!grow((void **)&w->files, &w->files_cap, w->nfiles + 1, sizeof(size_t)))
			return false;
		w->files[w->nfiles++] = off;
	} else if (r->type == EPOLL_REC_ITEM && (w->epfd < 0 || r->epfd == w->epfd)) {
		if (!grow((void **)&w->items, &w->items_cap, w->nitems + 1, sizeof(size_t)))
			return false;
		w->items[w->nitems++] = off;
	}
	return true;
}

static size_t hash_slot(uint64_t id, size_t mask)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ULL >> 20) & mask;
}

/* Files by id; the first FILE record (the lowest fd) of a file wins. */
static bool hash_files(struct epoll_walk *w)
{
	size_t n = 16, mask;

	while (n < 2 * w->nfiles)
		n *= 2;
	if (!grow((void **)&w->by_id, &w->by_id_cap, n, sizeof(size_t)))
		return false;
	memset(w->by_id, 0, n * sizeof(size_t));
	mask = w->by_id_mask = n - 1;
	for (size_t i = 0; i < w->nfiles; i++) {
		uint64_t id = rec_at(w, w->files[i])->file_id;
		size_t h = hash_slot(id, mask);

		while (w->by_id[h] && rec_at(w, w->by_id[h] - 1)->file_id != id)
			h = (h + 1) & mask;
		if (!w->by_id[h])
			w->by_id[h] = w->files[i] + 1;
	}
	return true;
}

static const struct epoll_record *file_by_id(const struct epoll_walk *w, uint64_t id)
{
	size_t mask = w->by_id_mask, h = hash_slot(id, mask);

	for (; w->by_id[h]; h = (h + 1) & mask) {
		const struct epoll_record *f = rec_at(w, w->by_id[h] - 1);

		if (f->file_id == id)
			return f;
	}
	return NULL;
}

/* Reads the next fd table's records into w. Returns false on ENOMEM. */
static bool gather(lua_State *L, struct iterator *it, struct epoll_walk *w)
{
	const struct epoll_record *r;
	size_t size;

	if (w->carry) {
		memmove(w->buf, w->buf + w->len - w->carry, w->carry);
		w->len = w->carry;
	} else {
		w->len = 0;
	}
	w->nitems = w->nfiles = w->next = 0;
	if (w->carry) {
		w->carry = 0;
		w->tid = rec_at(w, 0)->tid;
		if (!index_record(w, 0))
			return false;
	}
	while ((r = iterator_next_record(L, it))) {
		size = rec_size(r);
		if (!grow((void **)&w->buf, &w->cap, w->len + size, 1))
			return false;
		memcpy(w->buf + w->len, r, size);
		if (w->len && r->tid != w->tid) {
			w->carry = size;	/* the next table's first record */
			w->len += size;
			return hash_files(w);
		}
		w->tid = r->tid;
		if (!index_record(w, w->len))
			return false;
		w->len += size;
	}
	w->eof = true;
	return hash_files(w);
}

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534f434b
#define ANON_INODE_FS_MAGIC 0x09041934

/* Appends the decimal digits of v to buf at n; returns the new length. */
static size_t put_u64(char *buf, size_t n, uint64_t v)
{
	char digits[20];
	size_t k = 0;

	do
		digits[k++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (k)
		buf[n++] = digits[--k];
	return n;
}

/* A dentry name (tail_is_name) is at most NAME_MAX bytes: the program
 * reads it into 256. */
#define NAME_MAX_LEN 255

/* Room for every path record_path builds from a name. */
#define RECORD_PATH_BUF 300
_Static_assert(sizeof("anon_inode:") - 1 + NAME_MAX_LEN <= RECORD_PATH_BUF, "names fit");

/* The path readlink shows for the file of record r (a FILE record, or an
 * item with its target's dentry name), into buf (RECORD_PATH_BUF bytes);
 * its length, or 0 when unknown. Pipes, sockets and anonymous inodes are
 * printed as the kernel prints them (pipefs_dname, sockfs_dname,
 * anon_inodefs_dname); other dentry names are no paths. The record was
 * checked (epoll_check): a name is at most NAME_MAX_LEN bytes. */
static size_t record_path(const struct epoll_record *r, char *buf, const char **path)
{
	static const char pipe[] = "pipe:[", sock[] = "socket:[", anon[] = "anon_inode:";
	size_t n;

	*path = buf;
	if (!r->tail_is_name) {
		*path = (const char *)(r + 1);
		return r->tail_len;
	}
	switch (r->magic) {
	case PIPEFS_MAGIC:
		memcpy(buf, pipe, n = sizeof(pipe) - 1);
		break;
	case SOCKFS_MAGIC:
		memcpy(buf, sock, n = sizeof(sock) - 1);
		break;
	case ANON_INODE_FS_MAGIC:
		if (!r->tail_len)
			return 0;
		memcpy(buf, anon, sizeof(anon) - 1);
		memcpy(buf + sizeof(anon) - 1, r + 1, r->tail_len);
		return sizeof(anon) - 1 + r->tail_len;
	default:
		return 0;
	}
	n = put_u64(buf, n, r->ino);
	buf[n++] = ']';
	return n;
}

/* Pushes file_fd, path and kind of the item's target. file_fd: tfd when it
 * still refers to the file, else the lowest fd of the table that does; the
 * path is that fd's. A file in no fd of the table has no file_fd, and a
 * path only when it is a pipe, a socket or an anonymous inode. */
static void push_target(lua_State *L, const struct epoll_walk *w, const struct epoll_record *r)
{
	const struct epoll_record *f = file_by_id(w, r->file_id);
	const char *path = NULL;
	char buf[RECORD_PATH_BUF];
	size_t len = 0;

	if (f) {
		lua_pushinteger(L, r->same_file ? r->tfd : f->tfd);
		lua_setfield(L, -2, "file_fd");
		len = record_path(f, buf, &path);
	} else if (!r->same_file) {
		len = record_path(r, buf, &path);
	}
	lua_pushstring(L, file_kind_of(r->mode, path, len));
	lua_setfield(L, -2, "kind");
	if (len) {
		lua_pushlstring(L, path, len);
		lua_setfield(L, -2, "path");
	}
}

/* What the program writes: items and files; names no longer than a
 * dentry name, paths no longer than PATH_MAX. */
static const char *epoll_check(const void *rec)
{
	const struct epoll_record *r = rec;

	if (r->type != EPOLL_REC_ITEM && r->type != EPOLL_REC_FILE)
		return "unknown record type";
	if (r->tail_is_name ? r->tail_len > NAME_MAX_LEN : r->tail_len > BPFITER_TAIL_MAX)
		return "name or path too long";
	return NULL;
}

static int epoll_step(lua_State *L, struct iterator *it, void *state)
{
	struct epoll_walk *w = state;
	const struct epoll_record *r;

	while (w->next >= w->nitems) {
		if (w->eof)
			return 0;
		if (!gather(L, it, w))
			return iterator_raise(L, it, ENOMEM, "joining items with their files");
	}
	r = rec_at(w, w->items[w->next++]);
	iterator_decode(L, it, r);
	push_event_names_cached(L, r->events);
	lua_setfield(L, -2, "event_names");
	push_target(L, w, r);
	if (r->target_epoll_id) {
		lua_pushinteger(L, (lua_Integer)r->target_epoll_id);
		lua_setfield(L, -2, "target_epoll_id");
	}
	return 1;
}

static void epoll_release(void *state)
{
	struct epoll_walk *w = state;
	lua_Integer epfd = w->epfd;

	free(w->buf);
	free(w->items);
	free(w->files);
	free(w->by_id);
	memset(w, 0, sizeof(*w));
	w->epfd = epfd;
	w->eof = true;		/* a released walk yields nothing more */
}

static void epoll_filter_init(lua_State *L, int opts, void *state)
{
	struct epoll_walk *w = state;

	w->epfd = option_integer(L, opts, "epfd", -1);
}

/* A fresh key per program load for the opaque ids (sets, files). */
static int epoll_prepare(struct bpf_object *obj)
{
	struct epoll_bpf__rodata ro;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	if (getrandom(&ro.id_key, sizeof(ro.id_key), 0) != sizeof(ro.id_key))
		return errno ? errno : EIO;
	return rodata_set(obj, &ro, sizeof(ro));
}

static const struct option epoll_options[] = {
	OPTION_TASK_PID,
	{ .name = "epfd", .type = OPT_INTEGER, .scope = OPT_READER,
	  .min = 0, .max = 0x7fffffff, .arg = "FD", .expect = "an fd number (>= 0)",
	  .help = "only the epoll set of fd FD (with pid: of that process)" },
	OPTIONS_END,
};

static const struct derived_field epoll_derived[] = {
	DERIVED("event_names", "string", "", "events as EPOLLIN|EPOLLERR|..., unnamed bits as 0x..."),
	DERIVED("kind", "string", "", "the target file's kind, as files{} gives it"),
	DERIVED("path", "string?", "", "the target file's path, as files{} gives it"),
	DERIVED("file_fd", "integer?", "", "an fd holding the target now (tfd if same_file); nil if none"),
	DERIVED("target_epoll_id", "integer?", "", "for a nested epoll target, the inner set's epoll_id"),
	DERIVED_END,
};

const struct target target_epoll = {
	.name = "epoll", .help = "one record per item registered in an epoll set",
	.program = "dump_epoll",
	.elf_bytes = epoll_bpf__elf_bytes,
	.min_kernel = KERNEL_VERSION(6, 4), .min_kernel_needs = "the bpf_iter_num kfuncs",
	.record_size = sizeof(struct epoll_record),
	.fields = epoll_fields, .options = epoll_options,
	.prepare = epoll_prepare,
	.attach = attach_task_pid,
	.filter_size = sizeof(struct epoll_walk),
	.filter_init = epoll_filter_init,
	.derived = epoll_derived,
	.ring = true,
	.check = epoll_check,
	.step = epoll_step,
	.release = epoll_release,
};
