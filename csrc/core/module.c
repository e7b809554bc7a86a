/* luaopen_bpfiter_core: one function per target, all sharing the generic
 * iterator; the list of target names; and, for tools such as the CLI and
 * the docs generator, each target's field names, field_info (type, unit,
 * meaning) and options. */
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
	for (const struct derived_field *d = t->derived; d && d->name; d++) {
		lua_pushstring(L, d->name);
		lua_rawseti(L, -2, ++n);
	}
}

static const char *field_luatype(const struct field *f)
{
	switch (f->type) {
	case F_CHARS: case F_CHAR: return "string";
	case F_BOOL: return "boolean";
	case F_TAIL: return "string?";	/* nil when the record has no tail */
	default: return "integer";
	}
}

static void push_field_info(lua_State *L, int n, const char *name, const char *luatype,
			    const struct field_doc *doc)
{
	lua_createtable(L, 0, 4);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, luatype);
	lua_setfield(L, -2, "type");
	lua_pushstring(L, doc->unit ? doc->unit : "");
	lua_setfield(L, -2, "unit");
	lua_pushstring(L, doc->help ? doc->help : "");
	lua_setfield(L, -2, "help");
	lua_rawseti(L, -2, n);
}

/* {{name = "pid", type = "integer", unit = "", help = "thread id"}, ...}:
 * the fields in the order of push_field_names, with what they mean. */
static void push_field_infos(lua_State *L, const struct target *t)
{
	int n = 0;

	lua_newtable(L);
	for (const struct field *f = t->fields; f->name; f++)
		push_field_info(L, ++n, f->name, field_luatype(f), &f->doc);
	for (const struct derived_field *d = t->derived; d && d->name; d++)
		push_field_info(L, ++n, d->name, d->luatype, &d->doc);
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
	lua_newtable(L);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		push_field_names(L, bpfiter_targets[i]);
		lua_setfield(L, -4, bpfiter_targets[i]->name);
		push_field_infos(L, bpfiter_targets[i]);
		lua_setfield(L, -3, bpfiter_targets[i]->name);
		options_push(L, bpfiter_targets[i]);
		lua_setfield(L, -2, bpfiter_targets[i]->name);
	}
	lua_setfield(L, -4, "options");
	lua_setfield(L, -3, "field_info");
	lua_setfield(L, -2, "fields");

	lua_createtable(L, 0, (int)bpfiter_ntargets);
	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		lua_pushstring(L, bpfiter_targets[i]->help);
		lua_setfield(L, -2, bpfiter_targets[i]->name);
	}
	lua_setfield(L, -2, "target_help");
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
