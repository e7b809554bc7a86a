/* Programs: each target's BPF object, opened, prepared and verified once
 * per Lua state on first use, kept in the registry and closed with it. */
#include "program.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "fds.h"
#include "kernel.h"
#include "options.h"
#include "program_cache.h"
#include "record_common.h"

#define PROGRAMS_MT "bpfiter.program"
#define PROGRAMS_KEY "bpfiter.programs"
#define PROGRAM_KEY_MAX 48	/* "tasks/0xffffffff": target names are short */

static void program_unload(struct program *p)
{
	ring_buffer__free(p->ring.rb);
	p->ring.rb = NULL;
	if (p->obj)
		bpf_object__close(p->obj);	/* closes p->fd too */
	else if (p->cached && p->fd >= 0)
		close(p->fd);
	p->obj = NULL;
	p->fd = -1;
	p->loaded = false;
}

static int program_gc(lua_State *L)
{
	program_unload(luaL_checkudata(L, 1, PROGRAMS_MT));
	return 0;
}

/* The verifier also says EACCES; only an unprivileged caller gets the hint. */
const char *program_load_hint(int err)
{
	if (err == EPERM || (err == EACCES && geteuid() != 0))
		return " (needs root, or CAP_BPF and CAP_PERFMON)";
	return "";
}

/* Whether /proc/kallsyms shows this process real addresses: hidden, every
 * address reads 0. Not the first line alone: on 6.1 the first symbols are
 * per-CPU ones whose address really is 0 (fixed_percpu_data). */
static bool kallsyms_visible(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr = 0;
	bool seen = false;

	for (int i = 0; f && !seen && i < 4096 && fscanf(f, "%llx %*s %*[^\n]", &addr) == 1; i++)
		seen = addr != 0;
	if (f)
		fclose(f);
	return seen;
}

/* Sets the u32 named name in the object's .rodata (a load-time constant,
 * found through its BTF) to value. 0, ENOENT when the object has no such
 * constant, or another errno. */
static int set_rodata_u32(struct bpf_object *obj, const char *name, uint32_t value)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	const void *image;
	size_t size;
	char *copy;
	int id, err;

	id = map && btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (id < 0)
		return ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	v = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
			continue;
		image = bpf_map__initial_value(map, &size);
		if (v->size != sizeof(value) || !image || v->offset + sizeof(value) > size)
			return EINVAL;
		copy = malloc(size);
		if (!copy)
			return ENOMEM;
		memcpy(copy, image, size);
		memcpy(copy + v->offset, &value, sizeof(value));
		err = -bpf_map__set_initial_value(map, copy, size);
		free(copy);
		return err;
	}
	return ENOENT;
}

/* The load-time constants every program may have (bpf/common/
 * iter_common.bpf.h): bpfiter_page_shift, the running system's page size
 * (if the program has it), and bpfiter_want, the kernel work the variant
 * wants done (which a program with kernel_work must have). */
static int set_common_constants(const struct target *t, struct bpf_object *obj, uint32_t want)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t shift = 0;
	int err;

	while (shift < 31 && (1L << shift) < page)
		shift++;
	if (page <= 0 || (1L << shift) != page)
		return EINVAL;
	err = set_rodata_u32(obj, "bpfiter_page_shift", shift);
	if (err && err != ENOENT)
		return err;
	return want == PROGRAM_FULL || !t->kernel_work ? 0 :
		set_rodata_u32(obj, "bpfiter_want", want);
}

/* Opens and loads t's object into p. Returns 0, or an errno with the
 * reason in msg. */
static int load_program(const struct target *t, struct program *p, char *msg, size_t msgsize)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = t->name);
	struct bpf_program *prog;
	struct bpf_map *ring;
	const char *why;
	char key[PROGRAM_CACHE_KEY_LEN + 1];
	bool cacheable;
	const void *bytes;
	size_t size;
	int err, running;

	if (t->kallsyms && !kallsyms_visible()) {
		snprintf(msg, msgsize, "loading the BPF program failed (needs root, or CAP_BPF, "
			 "CAP_PERFMON and CAP_SYSLOG: /proc/kallsyms shows this process no kernel "
			 "addresses, and the program compares with one)");
		return EPERM;
	}
	bpfiter_libbpf_capture();
	bytes = t->elf_bytes(&size);
	p->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!p->obj) {
		snprintf(msg, msgsize, "opening the BPF object failed");
		return errno;
	}
	ring = t->ring ? bpf_object__find_map_by_name(p->obj, BPFITER_RING_MAP) : NULL;
	err = set_common_constants(t, p->obj, p->want);
	if (!err && t->prepare)
		err = t->prepare(p->obj);
	/* the key covers the load-time constants just set */
	cacheable = !err && !t->ring && program_cache_key(t, p->obj, bytes, size, key);
	if (cacheable && (p->fd = program_cache_get(t, key)) >= 0) {
		bpf_object__close(p->obj);	/* verified already: only the fd is needed */
		p->obj = NULL;
		p->cached = p->loaded = true;
		return 0;
	}
	if (!err && ring && p->ring_bytes)
		err = -bpf_map__set_max_entries(ring, p->ring_bytes);
	if (!err)
		err = -bpf_object__load(p->obj);
	prog = bpf_object__find_program_by_name(p->obj, t->program);
	if (!err && prog && t->ring) {
		p->ring.rb = ring ? ring_buffer__new(bpf_map__fd(ring), stream_ring_item, &p->ring,
						     NULL) : NULL;
		p->ring_bytes = ring ? bpf_map__max_entries(ring) : 0;
		if (!p->ring.rb) {
			snprintf(msg, msgsize, "opening the ring buffer failed");
			err = ring ? errno : ENOENT;
			bpf_object__close(p->obj);
			p->obj = NULL;
			return err;
		}
	}
	if (!err && prog) {
		p->fd = bpf_program__fd(prog);
		p->loaded = true;
		if (cacheable)
			program_cache_put(t, key, p->fd);
		return 0;
	}
	why = bpfiter_libbpf_last();
	running = kernel_version();
	if (running && running < t->min_kernel) {
		/* whatever failed, this kernel lacks what the target needs */
		snprintf(msg, msgsize, "needs kernel >= %d.%d (%s), this is %d.%d",
			 t->min_kernel / 1000, t->min_kernel % 1000, t->min_kernel_needs,
			 running / 1000, running % 1000);
		err = ENOTSUP;
	} else if (err == ESRCH && prog && strncmp(bpf_program__section_name(prog), "iter/", 5) == 0 &&
	    !strstr(why, "extern")) {
		/* libbpf found no bpf_iter_NAME in the kernel's BTF */
		snprintf(msg, msgsize, "kernel has no %s iterator",
			 bpf_program__section_name(prog) + 5);
		err = ENOTSUP;
	} else {
		err = err ? err : ENOENT;
		snprintf(msg, msgsize, "loading the BPF program failed%s%s%s%s", program_load_hint(err),
			 *why ? " [libbpf: " : "", why, *why ? "]" : "");
	}
	bpf_object__close(p->obj);
	p->obj = NULL;
	return err;
}

uint32_t program_want(lua_State *L, const struct target *t, int opts)
{
	uint32_t want = 0, all = 0;

	if (!t->kernel_work || !opts)
		return PROGRAM_FULL;
	if (lua_getfield(L, opts, "fields") != LUA_TTABLE) {
		lua_pop(L, 1);
		return PROGRAM_FULL;
	}
	for (const struct kernel_work *w = t->kernel_work; w->field; w++) {
		all |= w->bit;
		for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			if (strcmp(lua_tostring(L, -1), w->field) == 0)
				want |= w->bit;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);	/* the nil after the last name */
	}
	lua_pop(L, 1);
	return want == all ? PROGRAM_FULL : want;
}

/* Pushes the registry's program table and the program of t's variant want
 * in it (nil when there is none yet); the variant's key into key. */
static struct program *find_program(lua_State *L, const struct target *t, uint32_t want,
				    char key[PROGRAM_KEY_MAX])
{
	if (want == PROGRAM_FULL)
		snprintf(key, PROGRAM_KEY_MAX, "%s", t->name);
	else
		snprintf(key, PROGRAM_KEY_MAX, "%s/0x%x", t->name, (unsigned)want);
	lua_getfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	lua_getfield(L, -1, key);
	return lua_touserdata(L, -1);
}

int program_fd(lua_State *L, const struct target *t, uint32_t want)
{
	char msg[400];
	int fd = program_load(L, t, want, msg, sizeof(msg));

	if (fd < 0) {
		bpfiter_fail(L, -fd, t->name, "%s", msg);
		return -1;
	}
	return fd;
}

int program_load(lua_State *L, const struct target *t, uint32_t want, char *msg, size_t msgsize)
{
	char key[PROGRAM_KEY_MAX];
	struct program *p = find_program(L, t, want, key);
	int err;

	if (p && p->loaded) {
		lua_pop(L, 2);
		return p->fd;
	}
	/* One userdata per target and variant for good: walks keep pointers
	 * to it (the ring's consumer), also across a failed program_grow_ring. */
	if (!p) {
		lua_pop(L, 1);
		p = lua_newuserdatauv(L, sizeof(*p), 0);
		*p = (struct program){ .obj = NULL, .fd = -1, .want = want };
		luaL_setmetatable(L, PROGRAMS_MT);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, key);
	}
	p->ring_bytes = 0;
	/* libbpf marks an object loaded even when loading failed: a retry
	 * opens it anew */
	err = load_program(t, p, msg, msgsize);
	if (err && fds_reclaim(L, err))
		err = load_program(t, p, msg, msgsize);
	lua_pop(L, 2);
	if (err)
		return -err;
	return p->fd;
}

int program_probe(lua_State *L, const struct target *t, char *msg, size_t msgsize)
{
	struct program p = { .obj = NULL, .fd = -1, .want = PROGRAM_FULL };
	int err;

	if (program_loaded(L, t, PROGRAM_FULL))
		return 0;
	err = load_program(t, &p, msg, msgsize);
	if (err && fds_reclaim(L, err))
		err = load_program(t, &p, msg, msgsize);
	program_unload(&p);
	return err;
}

int program_grow_ring(lua_State *L, const struct target *t, uint32_t want, char *msg,
		      size_t msgsize)
{
	struct program *p = program_loaded(L, t, want);

	if (!p || !p->ring_bytes || p->ring_bytes >= PROGRAM_RING_MAX) {
		snprintf(msg, msgsize, "the ring buffer is at its largest (%u MiB)",
			 (p ? p->ring_bytes : 0) >> 20);
		return ENOSPC;
	}
	/* Walks of the old program hold p: they find the new ring there,
	 * which only the walks that read next fill. */
	program_unload(p);
	p->ring_bytes *= 2;
	return load_program(t, p, msg, msgsize);
}

struct program *program_loaded(lua_State *L, const struct target *t, uint32_t want)
{
	char key[PROGRAM_KEY_MAX];
	struct program *p = find_program(L, t, want, key);

	lua_pop(L, 2);
	return p && p->loaded ? p : NULL;
}

/* core.program_info(target [, opts]) -> {id =, cached = bool} for the
 * program this Lua state loaded for a walk of target with options opts (the
 * variant its fields option asks for; cached: it came from the program
 * cache), or nil. */
static int program_info(lua_State *L)
{
	const struct target *t = target_named(option_checkstring(L, 1));
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct program *p;

	if (!t) {
		lua_pushnil(L);
		return 1;
	}
	lua_settop(L, 2);
	options_check(L, t, 2, OPT_KERNEL | OPT_READER | OPT_LUA);
	p = program_loaded(L, t, program_want(L, t, 2));
	if (!p || bpf_obj_get_info_by_fd(p->fd, &info, &len) != 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, info.id);
	lua_setfield(L, -2, "id");
	lua_pushboolean(L, p->cached);
	lua_setfield(L, -2, "cached");
	return 1;
}

void program_register(lua_State *L)
{
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

void program_register_functions(lua_State *L)
{
	lua_pushcfunction(L, program_info);
	lua_setfield(L, -2, "program_info");
	program_cache_register(L);
}
