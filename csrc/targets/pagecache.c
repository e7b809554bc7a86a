/* pagecache and cached_files: the page cache of every superblock, one
 * record per folio or one per inode (bpf/pagecache.bpf.c). No iterator
 * target walks the page cache, so the program runs on a bpf_map_elem
 * iterator over a one-element array made here for each walk, whose value
 * carries the walk's options and its cursor. Records come through the ring
 * buffer; the step joins folios with the file record before them.
 *
 * Paths come out relative to their filesystem's root (the program cannot
 * know where the reader sees it mounted); lua/bpfiter/pagecache.lua turns
 * them into absolute paths through /proc/self/mountinfo. */
#define _GNU_SOURCE	/* O_PATH */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "devnum.h"
#include "errors.h"
#include "fds.h"
#include "iterator.h"
#include "kernel.h"
#include "pagecache.h"
#include "options.h"
#include "pagecache_record.h"
#include "program.h"
#include "kernel.h"
#include "pagecache.skel.h"

/* Lua-side fields; the step builds records by hand (joins and flags). */
static const struct field pagecache_fields[] = {
	FIELD(pagecache_record, dev, F_DEV, "dev", "", "the file's filesystem device, as st_dev"),
	FIELD(pagecache_record, dev, F_MAJOR, "major", "", "major number of dev"),
	FIELD(pagecache_record, dev, F_MINOR, "minor", "", "minor number of dev"),
	FIELD(pagecache_record, ino, F_U64, "inode", "", "inode number"),
	FIELDS_END,
};

static const struct { uint16_t bit; const char *name; } folio_flags[] = {
	{ PC_F_DIRTY, "dirty" }, { PC_F_WRITEBACK, "writeback" },
	{ PC_F_UPTODATE, "uptodate" }, { PC_F_REFERENCED, "referenced" },
	{ PC_F_ACTIVE, "active" }, { PC_F_LOCKED, "locked" },
	{ PC_F_MAPPED, "mapped" }, { PC_F_UNEVICTABLE, "unevictable" },
	{ PC_F_WORKINGSET, "workingset" },
};
#define NFLAGS (sizeof(folio_flags) / sizeof(folio_flags[0]))

static const char *const path_errors[] = {
	[PC_PATH_DELETED] = "deleted",
	[PC_PATH_NO_DENTRY] = "no dentry",
	[PC_PATH_TOO_DEEP] = "too deep",
};

/* The file record folios belong to. */
struct pagecache_walk_state {
	struct pagecache_record file;
	char relpath[BPFITER_TAIL_MAX + 2];	/* reverse_path of a checked tail */
	size_t relpath_len;
	bool have_file;
};

/* "c/b/a" (leaf first, as the program collects it) -> "/a/b/c": at most
 * len + 1 bytes (one '/' more than the separators). */
static size_t reverse_path(const char *leaf_first, size_t len, char *out)
{
	size_t n = 0, end = len;

	while (end > 0) {
		size_t start = end;

		while (start > 0 && leaf_first[start - 1] != '/')
			start--;
		out[n++] = '/';
		memcpy(out + n, leaf_first + start, end - start);
		n += end - start;
		end = start ? start - 1 : 0;
	}
	if (n == 0)
		out[n++] = '/';
	return n;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/* Identity and path of a file record, into the table on top. */
static void push_file_fields(lua_State *L, struct iterator *it, const struct pagecache_walk_state *w)
{
	const struct pagecache_record *f = &w->file;

	iterator_decode(L, it, f);	/* dev, major, minor, inode */
	set_int(L, "generation", f->generation);
	if (f->rdev)
		set_int(L, "rdev", (lua_Integer)kdev_to_user(f->rdev));
	lua_pushlstring(L, f->fstype, strnlen(f->fstype, sizeof(f->fstype)));
	lua_setfield(L, -2, "fstype");
	if (f->path_state == PC_PATH_OK) {
		lua_pushlstring(L, w->relpath, w->relpath_len);
		lua_setfield(L, -2, "relpath");
	} else {
		lua_pushstring(L, f->path_state < sizeof(path_errors) / sizeof(path_errors[0]) &&
				  path_errors[f->path_state] ? path_errors[f->path_state] : "unknown");
		lua_setfield(L, -2, "path_error");
	}
}

static void take_file(struct pagecache_walk_state *w, const struct pagecache_record *r)
{
	w->file = *r;
	w->relpath_len = r->path_state == PC_PATH_OK ?
		reverse_path((const char *)(r + 1), r->tail_len, w->relpath) : 0;
	w->have_file = true;
}

/* The walk's last record: raises when a safety bound cut the walk short. */
static void check_summary(lua_State *L, struct iterator *it, const struct pagecache_record *r)
{
	if (r->pages)
		iterator_raise(L, it, ERANGE, "the walk hit one of its safety bounds (a list longer"
			       " than the program follows): some files may be missing");
}

/* Record types the program writes, paths no longer than it follows. */
static const char *pagecache_check(const void *rec)
{
	const struct pagecache_record *r = rec;

	if (r->type < PC_REC_FILE || r->type > PC_REC_SUMMARY)
		return "unknown record type";
	if (r->tail_len > BPFITER_TAIL_MAX)
		return "path too long";
	return NULL;
}

static int pagecache_step(lua_State *L, struct iterator *it, void *state)
{
	struct pagecache_walk_state *w = state;
	const struct pagecache_record *r;

	while ((r = iterator_next_record(L, it))) {
		switch (r->type) {
		case PC_REC_FILE:
			take_file(w, r);	/* its folios follow */
			continue;
		case PC_REC_FOLIO:
		case PC_REC_SHADOW:
			if (!w->have_file || r->ino != w->file.ino)
				return iterator_raise(L, it, EPROTO, "a folio without its file");
			lua_createtable(L, 0, 20);
			push_file_fields(L, it, w);
			set_int(L, "index", (lua_Integer)r->index);
			set_int(L, "pages", (lua_Integer)r->pages);
			lua_pushboolean(L, r->type == PC_REC_SHADOW);
			lua_setfield(L, -2, "evicted");
			for (size_t i = 0; i < NFLAGS; i++) {
				lua_pushboolean(L, (r->flags & folio_flags[i].bit) != 0);
				lua_setfield(L, -2, folio_flags[i].name);
			}
			return 1;
		case PC_REC_SUMMARY:
			check_summary(L, it, r);
			continue;
		default:	/* pagecache_check let nothing else through */
			return iterator_raise(L, it, EPROTO, "unknown record type");
		}
	}
	return 0;
}

static int cached_files_step(lua_State *L, struct iterator *it, void *state)
{
	struct pagecache_walk_state *w = state;
	const struct pagecache_record *r;

	while ((r = iterator_next_record(L, it))) {
		if (r->type == PC_REC_FILE) {
			take_file(w, r);
			lua_createtable(L, 0, 16);
			push_file_fields(L, it, w);
			set_int(L, "mode", (lua_Integer)w->file.mode);
			set_int(L, "size", (lua_Integer)r->index);
			set_int(L, "cached", (lua_Integer)r->counts.cached);
			set_int(L, "dirty", (lua_Integer)r->counts.dirty);
			set_int(L, "writeback", (lua_Integer)r->counts.writeback);
			set_int(L, "evicted", (lua_Integer)r->counts.evicted);
			set_int(L, "mapped", (lua_Integer)r->counts.mapped);
			return 1;
		}
		if (r->type == PC_REC_SUMMARY) {
			check_summary(L, it, r);
			continue;
		}
		return iterator_raise(L, it, EPROTO, "unexpected record type");
	}
	return 0;
}

enum { SCOPE_ALL, SCOPE_OPEN };

/* Option file = PATH (one regular file): the walk holds it open (O_PATH:
 * no read permission needed, no open counted) so that the program finds
 * its inode through the reader's fd table instead of walking the
 * filesystem's inode list; dev and ino become the file's. Returns 0, or
 * pushes the failure triple and returns -1. */
static int hold_file(lua_State *L, const struct target *t, int opts, struct pagecache_walk *w)
{
	const char *path = option_string(L, opts, "file");
	struct stat st;
	int fd, err;

	if (!path)
		return 0;
	RETRY_AFTER_GC(L, fd, open(path, O_PATH | O_CLOEXEC));
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return bpfiter_fail(L, err, t->name, "%s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return bpfiter_fail(L, EISDIR, t->name, "%s", path);
	}
	w->want |= PC_ONE_FILE;
	w->fd = fd;
	w->dev = kdev_from_user(st.st_dev);
	w->ino = (uint64_t)st.st_ino;
	return 0;
}

/* Options -> the walk's own one-element array, given to the link. */
static int attach_walk(lua_State *L, const struct target *t, int opts, struct attach *a,
		       uint32_t want)
{
	struct pagecache_walk w = { .want = want };
	/* 0 is "any" for the program: the declarations keep users from 0 */
	lua_Integer dev = option_integer(L, opts, "dev", 0);
	lua_Integer ino = option_integer(L, opts, "ino", 0);
	lua_Integer min_pages = option_integer(L, opts, "min_pages", 0);
	uint32_t key = 0;
	int fd, err;

	if (option_word(L, t, opts, "scope", SCOPE_ALL) == SCOPE_OPEN)
		w.want |= PC_OPEN_ONLY;
	if (option_boolean(L, opts, "evicted", false))
		w.want |= PC_WANT_EVICTED;
	if (option_boolean(L, opts, "runs", false))
		w.want |= PC_WANT_RUNS;
	w.dev = dev ? kdev_from_user((uint64_t)dev) : 0;
	w.ino = (uint64_t)ino;
	w.min_pages = (uint64_t)min_pages;
	w.fd = -1;
	if (hold_file(L, t, opts, &w) < 0)
		return -1;

	RETRY_AFTER_GC(L, fd, bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfiter_pcwalk", sizeof(key),
					     sizeof(w), 1, NULL));
	if (fd < 0) {
		err = errno;
		if (w.fd >= 0)
			close(w.fd);
		return bpfiter_fail(L, err, t->name, "creating the walk's map failed%s",
				    program_load_hint(err));
	}
	if (bpf_map_update_elem(fd, &key, &w, BPF_ANY) < 0) {
		err = errno;
		close(fd);
		if (w.fd >= 0)
			close(w.fd);
		return bpfiter_fail(L, err, t->name, "setting up the walk's map failed");
	}
	if ((fd = attach_fd(L, a, fd)) < 0) {
		err = errno;
		if (w.fd >= 0)
			close(w.fd);
		return bpfiter_fail(L, err, t->name, "creating the walk's map failed");
	}
	a->info.map.map_fd = (uint32_t)fd;
	a->has_info = true;
	a->held_fd = w.fd;
	return 0;
}

static int pagecache_attach(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	return attach_walk(L, t, opts, a, PC_WANT_PAGES);
}

static int cached_files_attach(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	return attach_walk(L, t, opts, a, 0);
}

/* The i_state bits of an inode being set up or freed (see
 * bpf/targets/pagecache.bpf.c): from the kernel's enum where it has one
 * (6.18), else by release, renumbered in 6.12. */
static __u32 inode_going_bits(void)
{
	static const char *const names[] = { "I_NEW", "I_WILL_FREE", "I_FREEING" };
	long long v[3];

	if (kernel_enum_values("inode_state_flags_t", names, 3, v))
		return (__u32)(v[0] | v[1] | v[2]);
	if (kernel_version() >= 6012)
		return (1U << 0) | (1U << 7) | (1U << 8);
	return (1U << 3) | (1U << 4) | (1U << 5);
}

/* Both targets load the same object; the stream header names the target,
 * and the i_state bits are the running kernel's. */
static int name_stream(struct bpf_object *obj, const char *name)
{
	struct pagecache_bpf__rodata ro;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	ro.inode_going = inode_going_bits();
	memset((void *)ro.bpfiter_begin.target, 0, sizeof(ro.bpfiter_begin.target));
	memset((void *)ro.bpfiter_end.target, 0, sizeof(ro.bpfiter_end.target));
	memcpy((void *)ro.bpfiter_begin.target, name,
	       strnlen(name, sizeof(ro.bpfiter_begin.target) - 1));
	memcpy((void *)ro.bpfiter_end.target, name, strnlen(name, sizeof(ro.bpfiter_end.target) - 1));
	return rodata_set(obj, &ro, sizeof(ro));
}

static int cached_files_prepare(struct bpf_object *obj)
{
	return name_stream(obj, "cached_files");
}

static int pagecache_prepare(struct bpf_object *obj)
{
	return name_stream(obj, "pagecache");
}

/* A userland dev_t the kernel's 12-bit major, 20-bit minor can hold: any
 * other would name another device once converted (kernel_dev). */
static bool dev_fits(lua_Integer dev)
{
	return major((dev_t)dev) <= 0xfff && minor((dev_t)dev) <= 0xfffff;
}

static const char *const scope_words[] = { [SCOPE_ALL] = "all", [SCOPE_OPEN] = "open", NULL };

/* The options of both walks. path and pid are pagecache.lua's: it
 * resolves them into file, dev, ino and scope for the core. */
#define PAGECACHE_OPTIONS												\
	{ .name = "path", .type = OPT_STRING, .scope = OPT_LUA, .arg = "PATH",					\
	  .help = "a file: only it; a directory: the files under it" },						\
	{ .name = "pid", .type = OPT_INTEGER, .scope = OPT_LUA, .min = 1, .max = ATTACH_PID_MAX,		\
	  .arg = "PID", .expect = "a positive pid",								\
	  .help = "only files process PID has open or mapped" },						\
	{ .name = "scope", .type = OPT_STRING, .scope = OPT_KERNEL, .words = scope_words,			\
	  .arg = "SCOPE",											\
	  .help = "all inodes (default) or open: only files some process has open or mapped" },		\
	{ .name = "dev", .type = OPT_INTEGER, .scope = OPT_KERNEL, .min = 1, .max = LUA_MAXINTEGER,		\
	  .valid = dev_fits, .expect = "a device number as stat() gives it (st_dev)",				\
	  .arg = "DEV", .help = "only files on device DEV (as stat().st_dev)" },				\
	{ .name = "ino", .type = OPT_INTEGER, .scope = OPT_KERNEL, .min = 1, .max = LUA_MAXINTEGER,		\
	  .arg = "INODE", .help = "only inode number INODE (with dev: of that filesystem)" },			\
	{ .name = "min_pages", .type = OPT_INTEGER, .scope = OPT_KERNEL, .min = 0,				\
	  .max = LUA_MAXINTEGER, .arg = "PAGES",								\
	  .help = "only files with at least PAGES cached pages (default 0)" },					\
	{ .name = "evicted", .type = OPT_BOOLEAN, .scope = OPT_KERNEL,						\
	  .help = "also pages evicted recently (shadow entries), and files that have only those" },	\
	{ .name = "file", .type = OPT_STRING, .scope = OPT_INTERNAL,						\
	  .help = "one regular file, held open for the walk (see hold_file)" }

static const struct option pagecache_options[] = {
	PAGECACHE_OPTIONS,
	{ .name = "runs", .type = OPT_BOOLEAN, .scope = OPT_KERNEL,
	  .help = "runs of pages with the same flags instead of folios (default false)" },
	OPTIONS_END,
};

static const struct option cached_files_options[] = {
	PAGECACHE_OPTIONS,
	OPTIONS_END,
};

/* What both page-cache targets add to the record's identity fields. */
#define PAGECACHE_IDENTITY_DERIVED								\
	DERIVED("generation", "integer", "", "i_generation: tells apart inodes that reused a number"),	\
	DERIVED("rdev", "integer", "", "a device inode's device number, as st_rdev"),	\
	DERIVED("fstype", "string", "", "filesystem type: ext4, tmpfs, bdev (block-device caches), ..."),	\
	DERIVED("path", "string?", "", "the file as this process sees it; nil when it has none (see path_error)"),	\
	DERIVED("relpath", "string?", "", "the path from the root of its filesystem"),	\
	DERIVED("path_error", "string?", "", "why path is nil: deleted, no dentry, not mounted, too deep, no device")

static const struct derived_field folio_derived[] = {
	PAGECACHE_IDENTITY_DERIVED,
	DERIVED("index", "integer", "pages", "index of the first page of the folio (or run) in the file"),
	DERIVED("pages", "integer", "pages", "pages the folio (or run) covers"),
	DERIVED("evicted", "boolean", "", "a shadow entry: pages evicted recently"),
	DERIVED("dirty", "boolean", "", "dirty (the xarray mark)"),
	DERIVED("writeback", "boolean", "", "under writeback (the xarray mark)"),
	DERIVED("uptodate", "boolean", "", "folio flag uptodate"),
	DERIVED("referenced", "boolean", "", "folio flag referenced"),
	DERIVED("active", "boolean", "", "folio flag active"),
	DERIVED("locked", "boolean", "", "folio flag locked"),
	DERIVED("mapped", "boolean", "", "some page table maps it"),
	DERIVED("unevictable", "boolean", "", "folio flag unevictable"),
	DERIVED("workingset", "boolean", "", "folio flag workingset"),
	DERIVED_END,
};

static const struct derived_field file_derived[] = {
	PAGECACHE_IDENTITY_DERIVED,
	DERIVED("mode", "integer", "", "i_mode: file type and permission bits"),
	DERIVED("size", "integer", "bytes", "file size (i_size)"),
	DERIVED("cached", "integer", "pages", "pages in the page cache"),
	DERIVED("dirty", "integer", "pages", "pages of folios marked dirty"),
	DERIVED("writeback", "integer", "pages", "pages of folios under writeback"),
	DERIVED("evicted", "integer", "pages", "pages evicted recently, still remembered as shadow entries"),
	DERIVED("mapped", "integer", "pages", "pages of folios some page table maps"),
	DERIVED_END,
};

const struct target target_pagecache = {
	.name = "pagecache", .help = "one record per cached folio (or run of folios) of the page cache",
	.program = "walk_pagecache",
	.elf_bytes = pagecache_bpf__elf_bytes,
	.min_kernel = KERNEL_VERSION(6, 2), .min_kernel_needs = "the bpf_rdonly_cast kfunc",
	.record_size = sizeof(struct pagecache_record),
	.fields = pagecache_fields, .options = pagecache_options,
	.prepare = pagecache_prepare,
	.attach = pagecache_attach,
	.filter_size = sizeof(struct pagecache_walk_state),
	.derived = folio_derived,
	.ring = true,
	.check = pagecache_check,
	.step = pagecache_step,
};

const struct target target_cached_files = {
	.name = "cached_files", .help = "one record per inode with pages in the page cache",
	.program = "walk_pagecache",
	.elf_bytes = pagecache_bpf__elf_bytes,
	.min_kernel = KERNEL_VERSION(6, 2), .min_kernel_needs = "the bpf_rdonly_cast kfunc",
	.record_size = sizeof(struct pagecache_record),
	.fields = pagecache_fields, .options = cached_files_options,
	.prepare = cached_files_prepare,
	.attach = cached_files_attach,
	.filter_size = sizeof(struct pagecache_walk_state),
	.derived = file_derived,
	.ring = true,
	.check = pagecache_check,
	.step = cached_files_step,
};

/* core.file_identity(path) -> {dev =, ino =, is_dir =, path = realpath} |
 * nil, message, errno: what path= of the page-cache walks stands for. */
static int file_identity(lua_State *L)
{
	const char *path = option_checkstring(L, 1);
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0 || !realpath(path, real))
		return bpfiter_fail(L, errno, "pagecache", "%s", path);
	lua_createtable(L, 0, 4);
	set_int(L, "dev", (lua_Integer)st.st_dev);
	set_int(L, "ino", (lua_Integer)st.st_ino);
	lua_pushboolean(L, S_ISDIR(st.st_mode));
	lua_setfield(L, -2, "is_dir");
	lua_pushstring(L, real);
	lua_setfield(L, -2, "path");
	return 1;
}

void pagecache_register(lua_State *L)
{
	lua_pushcfunction(L, file_identity);
	lua_setfield(L, -2, "file_identity");
	lua_pushinteger(L, sysconf(_SC_PAGESIZE));
	lua_setfield(L, -2, "page_size");
}
