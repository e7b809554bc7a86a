/* Option checking: names, types and scopes against a target's table. */
#include "options.h"

#include <string.h>
#include <lauxlib.h>

#include "errors.h"

static const char *option_type_name(enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return "an integer";
	case OPT_BOOLEAN: return "a boolean";
	case OPT_STRING: return "a string";
	case OPT_INTEGER_OR_STRING: return "an integer or a string";
	}
	return "?";
}

static bool option_type_ok(lua_State *L, int idx, enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return lua_isinteger(L, idx);
	case OPT_BOOLEAN: return lua_isboolean(L, idx);
	case OPT_STRING: return lua_type(L, idx) == LUA_TSTRING;
	case OPT_INTEGER_OR_STRING:
		return lua_isinteger(L, idx) || lua_type(L, idx) == LUA_TSTRING;
	}
	return false;
}

void options_check(lua_State *L, const struct target *t, int opts, unsigned scopes)
{
	if (lua_isnoneornil(L, opts)) {
		lua_newtable(L);
		lua_replace(L, opts);	/* hooks can always read index opts */
		return;
	}
	luaL_checktype(L, opts, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, opts)) {
		const struct option *o = NULL;
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

		for (const struct option *p = t->options; key && p && p->name; p++)
			if (strcmp(p->name, key) == 0)
				o = p;
		if (!o)
			bpfiter_argerror(L, opts, "unknown option '%s' for %s",
					 key ? key : luaL_tolstring(L, -2, NULL), t->name);
		if (!(o->scope & scopes))
			bpfiter_argerror(L, opts, o->scope == OPT_READER ?
					 "option '%s' filters records when reading: pass it to bpfiter.open" :
					 "option '%s' is fixed when the view is pinned", o->name);
		if (!option_type_ok(L, -1, o->type))
			bpfiter_argerror(L, opts, "option '%s' must be %s, got %s", o->name,
					 option_type_name(o->type), luaL_typename(L, -1));
		lua_pop(L, 1);
	}
}

