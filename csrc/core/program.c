/* Programs: each target's BPF object, opened, prepared and verified once
 * per Lua state on first use, kept in the registry and closed with it. */
#include "program.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "fds.h"
#include "program_cache.h"
#include "record_common.h"

#define PROGRAMS_MT "bpfiter.program"
#define PROGRAMS_KEY "bpfiter.programs"

static int program_gc(lua_State *L)
{
	struct program *p = luaL_checkudata(L, 1, PROGRAMS_MT);

	ring_buffer__free(p->ring.rb);
	p->ring.rb = NULL;
	if (p->obj)
		bpf_object__close(p->obj);	/* closes p->fd too */
	else if (p->cached && p->fd >= 0)
		close(p->fd);
	p->obj = NULL;
	p->fd = -1;
	p->loaded = false;
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
	char key[PROGRAM_CACHE_KEY_LEN + 1];
	bool cacheable;
	const void *bytes;
	size_t size;
	int err;

	bpfiter_libbpf_capture();
	bytes = t->elf_bytes(&size);
	p->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!p->obj) {
		snprintf(msg, msgsize, "opening the BPF object failed");
		return errno;
	}
	err = t->prepare ? t->prepare(p->obj) : 0;
	cacheable = !err && !t->ring && program_cache_key(t, p->obj, bytes, size, key);
	if (cacheable && (p->fd = program_cache_get(t, key)) >= 0) {
		bpf_object__close(p->obj);	/* verified already: only the fd is needed */
		p->obj = NULL;
		p->cached = p->loaded = true;
		return 0;
	}
	if (!err)
		err = -bpf_object__load(p->obj);
	prog = bpf_object__find_program_by_name(p->obj, t->program);
	if (!err && prog && t->ring) {
		struct bpf_map *ring = bpf_object__find_map_by_name(p->obj, BPFITER_RING_MAP);

		p->ring.rb = ring ? ring_buffer__new(bpf_map__fd(ring), stream_ring_item, &p->ring,
						     NULL) : NULL;
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
	if (p && p->loaded) {
		lua_pop(L, 2);
		return p->fd;
	}
	lua_pop(L, 1);

	p = lua_newuserdatauv(L, sizeof(*p), 0);
	*p = (struct program){ .obj = NULL, .fd = -1 };
	luaL_setmetatable(L, PROGRAMS_MT);
	/* libbpf marks an object loaded even when loading failed: a retry
	 * opens it anew */
	err = load_program(t, p, msg, sizeof(msg));
	if (err && fds_reclaim(L, err))
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
	return p && p->loaded ? p : NULL;
}

/* core.program_info(target) -> {id =, cached = bool} for a program this Lua
 * state loaded (cached: it came from the program cache), or nil. */
static int program_info(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct program *p;

	lua_getfield(L, LUA_REGISTRYINDEX, PROGRAMS_KEY);
	lua_getfield(L, -1, name);
	p = lua_touserdata(L, -1);
	if (!p || !p->loaded || bpf_obj_get_info_by_fd(p->fd, &info, &len) != 0) {
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
