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
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "record_common.h"

#define PROGRAMS_MT "bpfiter.program"
#define PROGRAMS_KEY "bpfiter.programs"

static int ring_item(void *ctx, void *data, size_t size)
{
	struct program *p = ctx;

	return p->on_item(p->reader, data, size);
}

static int program_gc(lua_State *L)
{
	struct program *p = luaL_checkudata(L, 1, PROGRAMS_MT);

	ring_buffer__free(p->ring);
	p->ring = NULL;
	if (p->obj)
		bpf_object__close(p->obj);
	p->obj = NULL;
	return 0;
}

/* The verifier also says EACCES; only an unprivileged caller gets the hint. */
const char *program_load_hint(int err)
{
	if (err == EPERM || (err == EACCES && geteuid() != 0))
		return " (needs root, or CAP_BPF and CAP_PERFMON)";
	return "";
}

/* Whether /proc/kallsyms shows this process real addresses (its first
 * line is enough: hidden means every address reads 0). */
static bool kallsyms_visible(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr = 0;
	bool seen = f && fscanf(f, "%llx", &addr) == 1 && addr != 0;

	if (f)
		fclose(f);
	return seen;
}

/* Sets the program's bpfiter_page_shift (bpf/common/iter_common.bpf.h), if
 * it has one, to the running system's page size: found by name in the
 * object's .rodata section through its BTF. 0 or an errno. */
static int set_page_shift(struct bpf_object *obj)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	long page = sysconf(_SC_PAGESIZE);
	uint32_t shift = 0;
	const void *image;
	size_t size;
	char *copy;
	int id, err;

	id = map && btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (id < 0)
		return 0;
	sec = btf__type_by_id(btf, (__u32)id);
	v = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "bpfiter_page_shift") != 0)
			continue;
		while (shift < 31 && (1L << shift) < page)
			shift++;
		if (page <= 0 || (1L << shift) != page || v->size != sizeof(shift))
			return EINVAL;
		image = bpf_map__initial_value(map, &size);
		if (!image || v->offset + sizeof(shift) > size)
			return ENOENT;
		copy = malloc(size);
		if (!copy)
			return ENOMEM;
		memcpy(copy, image, size);
		memcpy(copy + v->offset, &shift, sizeof(shift));
		err = -bpf_map__set_initial_value(map, copy, size);
		free(copy);
		return err;
	}
	return 0;
}

/* Opens and loads t's object into p. Returns 0, or an errno with the
 * reason in msg. */
static int load_program(const struct target *t, struct program *p, char *msg, size_t msgsize)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = t->name);
	struct bpf_program *prog;
	const char *why;
	const void *bytes;
	size_t size;
	int err;

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
	err = set_page_shift(p->obj);
	if (!err && t->prepare)
		err = t->prepare(p->obj);
	if (!err)
		err = -bpf_object__load(p->obj);
	prog = bpf_object__find_program_by_name(p->obj, t->program);
	if (!err && prog && t->ring) {
		struct bpf_map *ring = bpf_object__find_map_by_name(p->obj, BPFITER_RING_MAP);

		p->ring = ring ? ring_buffer__new(bpf_map__fd(ring), ring_item, p, NULL) : NULL;
		if (!p->ring) {
			snprintf(msg, msgsize, "opening the ring buffer failed");
			err = ring ? errno : ENOENT;
			bpf_object__close(p->obj);
			p->obj = NULL;
			return err;
		}
	}
	if (!err && prog) {
		p->fd = bpf_program__fd(prog);
		return 0;
	}
	why = bpfiter_libbpf_last();
	/* ESRCH is also libbpf's word for a kernel symbol (extern) it did not find */
	if (err == ESRCH && prog && strncmp(bpf_program__section_name(prog), "iter/", 5) == 0 &&
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

int program_fd(lua_State *L, const struct target *t)
{
	struct program *p;
	char msg[400];
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
	*p = (struct program){ .obj = NULL, .ring = NULL };
	luaL_setmetatable(L, PROGRAMS_MT);
	err = load_program(t, p, msg, sizeof(msg));
	if (err) {
		lua_pop(L, 2);
		bpfiter_fail(L, err, t->name, "%s", msg);
		return -1;
	}
	lua_setfield(L, -2, t->name);
	lua_pop(L, 1);
	return p->fd;
}

struct program *program_loaded(lua_State *L, const struct target *t)
{
	struct program *p;

	lua_getfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	lua_getfield(L, -1, t->name);
	p = lua_touserdata(L, -1);
	lua_pop(L, 2);
	return p && p->obj ? p : NULL;
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
