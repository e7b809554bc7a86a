/* discover(): the iterator targets the running kernel offers, read from its
 * BTF, and which bpfiter targets decode each. A kernel iterator target NAME
 * is a function bpf_iter_NAME (DEFINE_BPF_ITER_FUNC) whose context is
 * struct bpf_iter__NAME; libbpf looks for the same function when it loads
 * a SEC("iter/NAME") program. Targets that loadable modules register live
 * in the modules' BTF and are not read here. Kernel targets this build
 * decodes but the running kernel lacks are listed too, as not offered. */
#include "discovery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "fds.h"
#include "program.h"
#include "target.h"

#define SECTIONS_KEY "bpfiter.target_iterators"

struct named {
	const char *name;	/* after the bpf_iter_ or bpf_iter__ prefix */
	uint32_t id;
};

struct names {
	struct named *v;
	size_t n, cap;
};

static bool names_add(struct names *a, const char *name, uint32_t id)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 128;
		struct named *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return false;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (struct named){ name, id };
	return true;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* Pushes {"task"}: the context members a program of the target receives,
 * after meta. They sit in one-member anonymous unions. */
static void push_context(lua_State *L, const struct btf *btf, const struct btf_type *ctx)
{
	const struct btf_member *m = btf_members(ctx);
	int n = 0;

	lua_newtable(L);
	for (int i = 0; i < btf_vlen(ctx); i++, m++) {
		const struct btf_type *mt = btf__type_by_id(btf, m->type);
		const struct btf_member *inner = &m[0];
		int count = 1;

		if (!m->name_off && mt && btf_is_composite(mt)) {
			inner = btf_members(mt);
			count = btf_vlen(mt);
		}
		for (int j = 0; j < count; j++) {
			const char *name = btf__name_by_offset(btf, inner[j].name_off);

			if (name && *name && strcmp(name, "meta") != 0) {
				lua_pushstring(L, name);
				lua_rawseti(L, -2, ++n);
			}
		}
	}
}

/* The kernel target each bpfiter target's program attaches to, from its
 * section name ("iter/task" -> "task"), as a table name -> kernel name,
 * built once per Lua state. */
static void push_target_iterators(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, SECTIONS_KEY) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	bpfiter_libbpf_capture();
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		const struct target *t = bpfiter_targets[i];
		LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = t->name);
		struct bpf_object *obj;
		struct bpf_program *prog;
		const void *bytes;
		const char *sec, *slash;
		size_t size;

		bytes = t->elf_bytes(&size);
		obj = bpf_object__open_mem(bytes, size, &opts);
		if (libbpf_get_error(obj))
			continue;
		prog = bpf_object__find_program_by_name(obj, t->program);
		sec = prog ? bpf_program__section_name(prog) : NULL;
		slash = sec ? strchr(sec, '/') : NULL;
		/* "iter/NAME" or, for sleepable programs, "iter.s/NAME" */
		if (slash && (strncmp(sec, "iter/", 5) == 0 || strncmp(sec, "iter.s/", 7) == 0)) {
			lua_pushstring(L, slash + 1);
			lua_setfield(L, -2, t->name);
		}
		bpf_object__close(obj);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, SECTIONS_KEY);
}

/* Pushes the bpfiter targets (array of names) whose program attaches to
 * kernel target `name`; iterators is the table push_target_iterators made. */
static void push_decoders(lua_State *L, int iterators, const char *name)
{
	int n = 0;

	lua_newtable(L);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		lua_getfield(L, iterators, bpfiter_targets[i]->name);
		if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0) {
			lua_pushstring(L, bpfiter_targets[i]->name);
			lua_rawseti(L, -3, ++n);
		}
		lua_pop(L, 1);
	}
}

/* Appends {name =, offered = false, context = {}, bpfiter = {names...}}
 * to the list on top for each kernel target a bpfiter target attaches to
 * that is not in `offered` (a set of kernel names). */
static void push_missing(lua_State *L, int iterators, int offered)
{
	int n = (int)lua_rawlen(L, -1);

	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		const char *kernel_name;

		if (lua_getfield(L, iterators, bpfiter_targets[i]->name) != LUA_TSTRING) {
			lua_pop(L, 1);
			continue;
		}
		kernel_name = lua_tostring(L, -1);
		if (lua_getfield(L, offered, kernel_name) != LUA_TNIL) {
			lua_pop(L, 2);
			continue;
		}
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
		lua_setfield(L, offered, kernel_name);	/* listed once */
		lua_createtable(L, 0, 4);
		lua_pushvalue(L, -2);
		lua_setfield(L, -2, "name");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "offered");
		lua_newtable(L);
		lua_setfield(L, -2, "context");
		push_decoders(L, iterators, kernel_name);
		lua_setfield(L, -2, "bpfiter");
		lua_rawseti(L, -3, ++n);
		lua_pop(L, 1);
	}
}

/* The kernel's BTF, or NULL with errno set (EMFILE when out of fds). */
static struct btf *vmlinux_btf(void)
{
	struct btf *btf;

	bpfiter_libbpf_capture();	/* its "failed to find" goes in our message */
	btf = btf__load_vmlinux_btf();
	if (!btf)
		errno = fds_errno(errno);
	return btf;
}

/* discover() -> {{name =, offered =, context = {...}, bpfiter = {names...}},
 * ...}, the kernel's targets sorted by name, then the missing ones
 * | nil, message, errno */
static int discover(lua_State *L)
{
	struct btf *btf;
	struct names funcs = { 0 }, structs = { 0 };
	bool ok = true;
	uint32_t count;
	int iterators, offered, n = 0;

	RETRY_PTR_AFTER_GC(L, btf, vmlinux_btf());
	if (!btf) {
		int err = errno;
		return bpfiter_fail(L, err, "targets", "reading the kernel's BTF");
	}
	/* One pass over the types, then a merge of two sorted lists:
	 * btf__find_by_name_kind() would rescan every type per name. */
	count = btf__type_cnt(btf);
	for (uint32_t id = 1; ok && id < count; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);

		if (!name || strncmp(name, "bpf_iter_", 9) != 0)
			continue;
		if (btf_is_func(t) && name[9] != '_')
			ok = names_add(&funcs, name + 9, id);
		else if (btf_is_struct(t) && name[9] == '_')
			ok = names_add(&structs, name + 10, id);
	}
	if (!ok) {
		free(funcs.v);
		free(structs.v);
		btf__free(btf);
		return bpfiter_fail(L, ENOMEM, "targets", "reading the kernel's BTF");
	}
	qsort(funcs.v, funcs.n, sizeof(*funcs.v), compare_names);
	qsort(structs.v, structs.n, sizeof(*structs.v), compare_names);

	push_target_iterators(L);
	iterators = lua_gettop(L);
	lua_newtable(L);
	offered = lua_gettop(L);
	lua_newtable(L);
	for (size_t f = 0, s = 0; f < funcs.n && s < structs.n;) {
		int c = strcmp(funcs.v[f].name, structs.v[s].name);

		if (c) {
			c < 0 ? f++ : s++;
			continue;
		}
		lua_pushboolean(L, 1);
		lua_setfield(L, offered, funcs.v[f].name);
		lua_createtable(L, 0, 4);
		lua_pushstring(L, funcs.v[f].name);
		lua_setfield(L, -2, "name");
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "offered");
		push_context(L, btf, btf__type_by_id(btf, structs.v[s].id));
		lua_setfield(L, -2, "context");
		push_decoders(L, iterators, funcs.v[f].name);
		lua_setfield(L, -2, "bpfiter");
		lua_rawseti(L, -2, ++n);
		f++;
		s++;
	}
	free(funcs.v);
	free(structs.v);
	btf__free(btf);
	push_missing(L, iterators, offered);
	return 1;
}

#define AVAILABLE_KEY "bpfiter.available"

/* available(NAME) -> true | false, reason: whether bpfiter target NAME's
 * program loads on this kernel (loading it and closing it again, unless a
 * walk has it loaded). The kernel's answer (loads, or ENOTSUP) is kept for
 * the Lua state: targets() asks for every target at each call; a failure
 * that may pass (privilege, fds) is asked again. */
static int available(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	char msg[400];
	int err;

	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		if (strcmp(bpfiter_targets[i]->name, name) != 0)
			continue;
		luaL_getsubtable(L, LUA_REGISTRYINDEX, AVAILABLE_KEY);
		if (lua_getfield(L, -1, name) != LUA_TNIL) {
			if (lua_isboolean(L, -1))
				return 1;
			lua_pushboolean(L, 0);
			lua_insert(L, -2);
			return 2;	/* false, reason */
		}
		lua_pop(L, 1);
		err = program_probe(L, bpfiter_targets[i], msg, sizeof(msg));
		if (err == 0 || err == ENOTSUP) {
			if (err)
				lua_pushstring(L, msg);
			else
				lua_pushboolean(L, 1);
			lua_setfield(L, -2, name);
		}
		if (err == 0) {
			lua_pushboolean(L, 1);
			return 1;
		}
		lua_pushboolean(L, 0);
		lua_pushstring(L, msg);
		return 2;
	}
	return luaL_argerror(L, 1, "unknown target");
}

void discovery_register(lua_State *L)
{
	lua_pushcfunction(L, discover);
	lua_setfield(L, -2, "discover");
	lua_pushcfunction(L, available);
	lua_setfield(L, -2, "available");
}
