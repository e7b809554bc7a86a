/* luaopen_bpfiter_core: one function per target, all sharing the generic
 * iterator; the list of target names; and, for tools such as the CLI, each
 * target's field names and options. */
#include <lauxlib.h>

#include "bpfiter.h"
#include "collector.h"
#include "discovery.h"
#include "iterator.h"
#include "pagecache.h"
#include "options.h"
#include "program.h"
#include "target.h"
#include "text_row.h"
#include "view.h"

/* {"pid", "tgid", ...}: the record fields, then the derived ones. */
static void push_field_names(lua_State *L, const struct target *t)
{
	int n = 0;

	lua_newtable(L);
	for (const struct field *f = t->fields; f->name; f++) {
		lua_pushstring(L, f->name);
		lua_rawseti(L, -2, ++n);
	}
	for (const char *const *d = t->derived; d && *d; d++) {
		lua_pushstring(L, *d);
		lua_rawseti(L, -2, ++n);
	}
}

int luaopen_bpfiter_core(lua_State *L)
{
	iterator_register(L);
	lua_createtable(L, 0, (int)bpfiter_ntargets + 2);
	lua_createtable(L, (int)bpfiter_ntargets, 0);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		const struct target *t = bpfiter_targets[i];

		lua_pushstring(L, t->name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
		lua_pushlightuserdata(L, (void *)t);
		lua_pushcclosure(L, iterator_open, 1);
		lua_setfield(L, -3, t->name);
	}
	lua_setfield(L, -2, "targets");

	lua_newtable(L);
	lua_newtable(L);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		push_field_names(L, bpfiter_targets[i]);
		lua_setfield(L, -3, bpfiter_targets[i]->name);
		options_push(L, bpfiter_targets[i]);
		lua_setfield(L, -2, bpfiter_targets[i]->name);
	}
	lua_setfield(L, -3, "options");
	lua_setfield(L, -2, "fields");
	view_register(L);
	options_register(L);
	program_register_functions(L);
	discovery_register(L);
	collectors_register(L);
	pagecache_register(L);
	text_row_register(L);
	lua_pushliteral(L, BPFITER_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
