/* Programs: each target's BPF object, opened, prepared and verified once
 * per Lua state on first use, kept in the registry and closed with it. */
#include "program.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "kernel.h"
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

/* Opens and loads t's object into p. Returns 0, or an errno with the
 * reason in msg. */
static int load_program(const struct target *t, struct program *p, char *msg, size_t msgsize)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = t->name);
	struct bpf_program *prog;
	const char *why;
	const void *bytes;
	size_t size;
	int err, running;

	bpfiter_libbpf_capture();
	bytes = t->elf_bytes(&size);
	p->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!p->obj) {
		snprintf(msg, msgsize, "opening the BPF object failed");
		return errno;
	}
	err = t->prepare ? t->prepare(p->obj) : 0;
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

int program_fd(lua_State *L, const struct target *t)
{
	char msg[400];
	int fd = program_load(L, t, msg, sizeof(msg));

	if (fd < 0) {
		bpfiter_fail(L, -fd, t->name, "%s", msg);
		return -1;
	}
	return fd;
}

int program_load(lua_State *L, const struct target *t, char *msg, size_t msgsize)
{
	struct program *p;
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
	err = load_program(t, p, msg, msgsize);
	if (err) {
		lua_pop(L, 2);
		return -err;
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
