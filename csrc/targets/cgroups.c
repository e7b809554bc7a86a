/* cgroups: one record per cgroup (cgroup iterator), from a root cgroup in
 * one of four orders, any number of them through the ring (one_read); a
 * pinned view holds what the kernel's one 32 KiB buffer holds. The root is opened here, when the link is made, so a
 * pinned view keeps walking the cgroup it was pinned with. */
#define _GNU_SOURCE
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>

#include <lauxlib.h>

#include "attach.h"
#include "errors.h"
#include "kernel.h"
#include "options.h"
#include "fds.h"
#include "cgroup_record.h"
#include "cgroup.skel.h"
#include "cgroup_nokfunc.skel.h"

_Static_assert(sizeof(struct cgroup_record) % 8 == 0, "records stay 8-byte aligned");

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define FILEID_KERNFS 0xfe

static const struct field cgroup_fields[] = {
	FIELD(cgroup_record, id, F_U64, "id", "", "cgroup id (inode of its directory)"),
	FIELD(cgroup_record, tail_len, F_TAIL, "path", "", "path within its hierarchy, as /proc/PID/cgroup shows it"),
	FIELD(cgroup_record, level, F_U32, "level", "", "depth, 0 for a hierarchy's root"),
	FIELD(cgroup_record, parent_id, F_U64, "parent_id", "", "parent's id, 0 for a hierarchy's root"),
	FIELD(cgroup_record, hierarchy_id, F_U32, "hierarchy_id", "", "0 for cgroup v2, else the v1 hierarchy number"),
	FIELD(cgroup_record, populated, F_BOOL, "populated", "", "tasks in it or below"),
	FIELD(cgroup_record, frozen, F_BOOL, "frozen", "", "v2 freezer state (false on v1)"),
	FIELD(cgroup_record, threaded, F_BOOL, "threaded", "", "a threaded cgroup"),
	FIELD(cgroup_record, nr_descendants, F_U32, "nr_descendants", "count", "live descendants"),
	FIELD(cgroup_record, nr_dying_descendants, F_U32, "nr_dying_descendants", "count", "removed but not yet freed descendants"),
	FIELDS_END,
};

/* name: the path's last component ("/" for a hierarchy's root). */
static void cgroup_derive(lua_State *L, const void *rec)
{
	const struct cgroup_record *r = rec;
	const char *path = (const char *)rec + sizeof(*r);
	size_t len = r->tail_len, start = len;

	while (start > 0 && path[start - 1] != '/')
		start--;
	if (start == len)	/* "/" */
		lua_pushliteral(L, "/");
	else
		lua_pushlstring(L, path + start, len - start);
	lua_setfield(L, -2, "name");
	/* nil where the kernel cannot count them (cgroup_record.h) */
	if (r->nr_tasks != CGROUP_COUNT_UNKNOWN) {
		lua_pushinteger(L, r->nr_tasks);
		lua_setfield(L, -2, "nr_tasks");
		lua_pushinteger(L, r->nr_procs);
		lua_setfield(L, -2, "nr_procs");
	}
}

static const struct derived_field cgroup_derived[] = {
	DERIVED("name", "string", "", "last path component (/ for a hierarchy's root)"),
	DERIVED("nr_tasks", "integer?", "count",
		"threads in this cgroup itself (not descendants); nil on kernels without the css_task kfuncs"),
	DERIVED("nr_procs", "integer?", "count",
		"processes in this cgroup itself; nil on kernels without the css_task kfuncs"),
	DERIVED_END,
};

/* Kernels without the css_task kfuncs get the program without their
 * externs (bpf/targets/cgroup_nokfunc.bpf.c). */
static const void *cgroup_elf_bytes(size_t *size)
{
	if (kernel_has_function("bpf_iter_css_task_new"))
		return cgroup_bpf__elf_bytes(size);
	return cgroup_nokfunc_bpf__elf_bytes(size);
}

static int cgroup_prepare(struct bpf_object *obj)
{
	struct cgroup_bpf__rodata ro;
	int err = rodata_get(obj, &ro, sizeof(ro));

	if (err)
		return err;
	ro.have_css_task_iter = kernel_has_function("bpf_iter_css_task_new");
	return rodata_set(obj, &ro, sizeof(ro));
}

/* The option order's words, and the kernel's order for each. */
static const char *const order_words[] = { "pre", "post", "up", "self", NULL };
static const enum bpf_cgroup_iter_order orders[] = {
	BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_POST,
	BPF_CGROUP_ITER_ANCESTORS_UP, BPF_CGROUP_ITER_SELF_ONLY,
};

/* Where cgroup2 is mounted (the first such mount in /proc/self/mountinfo),
 * octal escapes undone. Returns 0, ENOENT when it is not mounted, or why
 * mountinfo could not be read (then "not mounted" would widen the walk). */
static int cgroup2_mount(lua_State *L, char *out, size_t size)
{
	FILE *f;
	char *line = NULL, *sep;
	size_t cap = 0;
	bool found = false;

	RETRY_PTR_AFTER_GC(L, f, fopen("/proc/self/mountinfo", "re"));
	if (!f)
		return errno;
	while (!found && getline(&line, &cap, f) > 0) {
		char mnt[4096], fstype[64];
		size_t o = 0;

		sep = strstr(line, " - ");
		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		for (const char *p = mnt; *p && o + 1 < size; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				out[o++] = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
				p += 3;
			} else {
				out[o++] = *p;
			}
		}
		out[o] = '\0';
		found = true;
	}
	free(line);
	fclose(f);
	return found ? 0 : ENOENT;
}

/* A directory of a cgroup filesystem (v2 or a v1 hierarchy), opened. */
static int open_cgroup_dir(lua_State *L, const struct target *t, const char *path)
{
	struct statfs st;
	int fd;

	RETRY_AFTER_GC(L, fd, open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return bpfiter_fail(L, errno, t->name, "root %s", path), -1;
	if (fstatfs(fd, &st) || (st.f_type != CGROUP2_SUPER_MAGIC &&
				 st.f_type != CGROUP_SUPER_MAGIC)) {
		close(fd);
		return bpfiter_fail(L, EINVAL, t->name,
				    "root %s is not a cgroup directory", path), -1;
	}
	return fd;
}

/* A cgroup v2 id opened as its directory, so a missing id gets a clear
 * message. Needs CAP_DAC_READ_SEARCH; without it (or without a mounted
 * cgroup2) returns -2 and the kernel gets the bare id. */
static int open_cgroup_id(lua_State *L, const struct target *t, uint64_t id)
{
	struct {
		struct file_handle h;
		uint64_t id;
	} handle = { .h = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
	char mnt[4096];
	int mfd, fd, err;

	handle.id = id;
	if (cgroup2_mount(L, mnt, sizeof(mnt)))
		return -2;
	RETRY_AFTER_GC(L, mfd, open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (mfd < 0)
		return -2;
	memcpy(handle.h.f_handle, &id, sizeof(id));
	RETRY_AFTER_GC(L, fd, open_by_handle_at(mfd, &handle.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	err = errno;
	close(mfd);
	if (fd >= 0)
		return fd;
	if (err == ESTALE || err == ENOENT)
		return bpfiter_fail(L, ENOENT, t->name, "root: cgroup id %llu",
				    (unsigned long long)id), -1;
	return -2;
}

static int cgroup_attach(lua_State *L, const struct target *t, int opts, struct attach *a)
{
	enum bpf_cgroup_iter_order order = orders[option_word(L, t, opts, "order", 0)];
	char mnt[4096];
	int fd = -2, err;

	switch (lua_getfield(L, opts, "root")) {
	case LUA_TSTRING:
		fd = open_cgroup_dir(L, t, lua_tostring(L, -1));
		break;
	case LUA_TNUMBER: {
		lua_Integer id = lua_tointeger(L, -1);

		fd = open_cgroup_id(L, t, (uint64_t)id);
		if (fd == -2)
			a->info.cgroup.cgroup_id = (uint64_t)id;
		break;
	}
	default:
		/* cgroup2 where this process sees it mounted; unmounted, the
		 * kernel walks the whole v2 hierarchy (fd and id 0). */
		err = cgroup2_mount(L, mnt, sizeof(mnt));
		if (!err)
			fd = open_cgroup_dir(L, t, mnt);
		else if (err != ENOENT)
			fd = (bpfiter_fail(L, err, t->name, "reading /proc/self/mountinfo"), -1);
	}
	if (fd == -1)
		return 3;	/* the failure triple is on top */
	lua_pop(L, 1);
	if (fd >= 0) {
		fd = attach_fd(L, a, fd);
		if (fd < 0)
			return bpfiter_fail(L, errno, t->name, "root");
		a->info.cgroup.cgroup_fd = (uint32_t)fd;
	}
	a->info.cgroup.order = order;
	a->has_info = true;
	return 0;
}

static const struct option cgroup_options[] = {
	{ .name = "root", .type = OPT_INTEGER_OR_STRING, .scope = OPT_KERNEL,
	  .min = 1, .max = LUA_MAXINTEGER, .arg = "PATH|ID",
	  .expect = "a cgroup directory or a positive cgroup id",
	  .help = "the cgroup to start from: its directory or its v2 id "
		  "(default: the cgroup2 mount)" },
	{ .name = "order", .type = OPT_STRING, .scope = OPT_KERNEL, .words = order_words,
	  .arg = "ORDER", .help = "pre, post (descendants), up (ancestors) or self (default pre)" },
	OPTIONS_END,
};

const struct target target_cgroups = {
	.name = "cgroups", .help = "one record per cgroup under a root, in a chosen order",
	.program = "dump_cgroup",
	.elf_bytes = cgroup_elf_bytes,
	.record_size = sizeof(struct cgroup_record),
	.fields = cgroup_fields, .options = cgroup_options,
	.prepare = cgroup_prepare,
	.attach = cgroup_attach,
	.derive = cgroup_derive, .derived = cgroup_derived,
	/* see bpf/targets/cgroup.bpf.c: the ring for walks, the stream for pins */
	.ring = true, .one_read = true, .pin_without_ring = true,
};
