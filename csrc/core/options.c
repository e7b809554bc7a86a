/* Option checking: every value against its declaration in the target's
 * table (name, type, range, words, scope), the one place options are
 * validated; hooks then read values known to be valid. */
#include "options.h"

#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "decode.h"
#include "errors.h"

/* Options every target accepts, declared here once. */
static const struct option generic_options[] = {
	{ .name = "fields", .type = OPT_FIELDS, .scope = OPT_READER, .arg = "A,B,C",
	  .help = "decode only these fields; costly ones not named (paths, cmdline, wchan) are not made in the kernel either (default: all)" },
	OPTIONS_END
};

static const char *const type_names[] = {
	[OPT_INTEGER] = "integer", [OPT_BOOLEAN] = "boolean",
	[OPT_STRING] = "string", [OPT_INTEGER_OR_STRING] = "integer|string",
	[OPT_FIELDS] = "fields",
};

static const char *type_phrase(enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return "an integer";
	case OPT_BOOLEAN: return "a boolean";
	case OPT_STRING: return "a string";
	case OPT_INTEGER_OR_STRING: return "an integer or a string";
	case OPT_FIELDS: return "an array of field names";
	}
	return "?";
}

static bool type_ok(lua_State *L, int idx, enum option_type type)
{
	switch (type) {
	case OPT_INTEGER: return lua_isinteger(L, idx);
	case OPT_BOOLEAN: return lua_isboolean(L, idx);
	case OPT_STRING: return lua_type(L, idx) == LUA_TSTRING;
	case OPT_INTEGER_OR_STRING:
		return lua_isinteger(L, idx) || lua_type(L, idx) == LUA_TSTRING;
	case OPT_FIELDS: return lua_istable(L, idx);
	}
	return false;
}

/* s (len bytes, NULs included) in double quotes, bytes that are not
 * printable ASCII as \ddd, cut to fit out. */
static const char *quoted(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;

	out[n++] = '"';
	for (size_t i = 0; i < len && n + 6 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\%03u", c);
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

static const struct option *declared(const struct target *t, const char *key, size_t len)
{
	for (const struct option *o = t->options; o && o->name; o++)
		if (strlen(o->name) == len && memcmp(o->name, key, len) == 0)
			return o;
	for (const struct option *o = generic_options; o->name; o++)
		if (strlen(o->name) == len && memcmp(o->name, key, len) == 0)
			return o;
	return NULL;
}

/* What is wrong with the fields array on top of the stack for t. */
static bool fields_problem(lua_State *L, const struct target *t, const struct option *o,
			   char *msg, size_t cap)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	char q[96];

	if (n == 0) {
		snprintf(msg, cap, "option '%s' must name at least one field", o->name);
		return true;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		size_t len;
		const char *s;

		if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
			snprintf(msg, cap, "option '%s' must be an array of field names, got %s at [%lld]",
				 o->name, luaL_typename(L, -1), (long long)i);
			lua_pop(L, 1);
			return true;
		}
		s = lua_tolstring(L, -1, &len);
		if (strlen(s) != len || !decode_has_field(t, s)) {
			snprintf(msg, cap, "option '%s': %s has no field %s", o->name, t->name,
				 quoted(q, sizeof(q), s, len));
			lua_pop(L, 1);
			return true;
		}
		lua_pop(L, 1);
	}
	return false;
}

static const char *scope_problem(const struct option *o)
{
	switch (o->scope) {
	case OPT_READER: return "filters records when reading: pass it to bpfiter.open";
	case OPT_KERNEL: return "is fixed when the view is pinned";
	case OPT_LUA: return "is resolved by the Lua layer (require \"bpfiter\"), not the core";
	case OPT_INTERNAL: break;
	}
	return NULL;
}

/* What is wrong with the value on top of the stack for option o, written
 * into msg; false when nothing is. */
static bool value_problem(lua_State *L, const struct target *t, const struct option *o,
			  char *msg, size_t cap)
{
	char q[96];

	if (!type_ok(L, -1, o->type)) {
		snprintf(msg, cap, "option '%s' must be %s, got %s", o->name, type_phrase(o->type),
			 luaL_typename(L, -1));
		return true;
	}
	if (o->type == OPT_FIELDS)
		return fields_problem(L, t, o, msg, cap);
	if (lua_isinteger(L, -1) && o->type != OPT_BOOLEAN) {
		lua_Integer v = lua_tointeger(L, -1);

		if (v >= o->min && v <= o->max && (!o->valid || o->valid(v)))
			return false;
		if (o->expect)
			snprintf(msg, cap, "option '%s' must be %s, got %lld", o->name, o->expect,
				 (long long)v);
		else if (o->max == LUA_MAXINTEGER)
			snprintf(msg, cap, "option '%s' must be an integer >= %lld, got %lld", o->name,
				 (long long)o->min, (long long)v);
		else
			snprintf(msg, cap, "option '%s' must be an integer from %lld to %lld, got %lld",
				 o->name, (long long)o->min, (long long)o->max, (long long)v);
		return true;
	}
	if (lua_type(L, -1) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		size_t n = 0;

		if (strlen(s) != len) {
			/* a C string would stop at the NUL: a different value */
			snprintf(msg, cap, "option '%s' must not contain NUL bytes, got %s", o->name,
				 quoted(q, sizeof(q), s, len));
			return true;
		}
		if (!o->words)
			return false;
		for (const char *const *w = o->words; *w; w++)
			if (strcmp(*w, s) == 0)
				return false;
		n = (size_t)snprintf(msg, cap, "option '%s' must be ", o->name);
		for (const char *const *w = o->words; *w && n < cap; w++)
			n += (size_t)snprintf(msg + n, cap - n, "%s\"%s\"",
					      w == o->words ? "" : w[1] ? ", " : " or ", *w);
		if (n < cap)
			snprintf(msg + n, cap - n, ", got %s", quoted(q, sizeof(q), s, len));
		return true;
	}
	return false;
}

/* What is wrong with the options table at index opts (a table) for t in
 * the given scopes, written into msg; false when nothing is. */
static bool options_problem(lua_State *L, const struct target *t, int opts, unsigned scopes,
			    char *msg, size_t cap)
{
	int top = lua_gettop(L);

	lua_pushnil(L);
	while (lua_next(L, opts)) {
		const struct option *o = NULL;
		size_t len = 0;
		const char *key = NULL;
		char q[96];

		if (lua_type(L, -2) == LUA_TSTRING) {
			key = lua_tolstring(L, -2, &len);
			o = declared(t, key, len);
		}
		if (o && o->scope == OPT_INTERNAL && !(scopes & OPT_INTERNAL))
			o = NULL;
		if (!o) {
			if (!key)
				snprintf(msg, cap, "unknown option '%s' for %s",
					 luaL_tolstring(L, -2, NULL), t->name);
			else if (strlen(key) != len)
				snprintf(msg, cap, "unknown option %s for %s",
					 quoted(q, sizeof(q), key, len), t->name);
			else
				snprintf(msg, cap, "unknown option '%s' for %s", key, t->name);
			lua_settop(L, top);	/* the key, the value (and a tolstring) */
			return true;
		}
		if (!(o->scope & scopes)) {
			snprintf(msg, cap, "option '%s' %s", o->name, scope_problem(o));
			lua_settop(L, top);
			return true;
		}
		if (value_problem(L, t, o, msg, cap)) {
			lua_settop(L, top);
			return true;
		}
		lua_pop(L, 1);
	}
	for (const struct option *o = t->options; o && o->name; o++) {
		if (!o->required || !(o->scope & scopes))
			continue;
		if (lua_getfield(L, opts, o->name) == LUA_TNIL) {
			snprintf(msg, cap, "option '%s' is required (%s)", o->name, o->help);
			lua_pop(L, 1);
			return true;
		}
		lua_pop(L, 1);
	}
	return false;
}

void options_check(lua_State *L, const struct target *t, int opts, unsigned scopes)
{
	char msg[512];

	if (lua_isnoneornil(L, opts)) {
		lua_newtable(L);
		lua_replace(L, opts);	/* hooks can always read index opts */
	}
	luaL_checktype(L, opts, LUA_TTABLE);
	if (options_problem(L, t, opts, scopes, msg, sizeof(msg)))
		bpfiter_argerror(L, opts, "%s", msg);
}

bool option_is_set(lua_State *L, int opts, const char *name)
{
	bool set = lua_getfield(L, opts, name) != LUA_TNIL;

	lua_pop(L, 1);
	return set;
}

lua_Integer option_integer(lua_State *L, int opts, const char *name, lua_Integer def)
{
	lua_Integer v = def;

	if (lua_getfield(L, opts, name) == LUA_TNUMBER)
		v = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return v;
}

bool option_boolean(lua_State *L, int opts, const char *name, bool def)
{
	bool v = def;

	if (lua_getfield(L, opts, name) == LUA_TBOOLEAN)
		v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

const char *option_string(lua_State *L, int opts, const char *name)
{
	const char *s = NULL;

	if (lua_getfield(L, opts, name) == LUA_TSTRING)
		s = lua_tostring(L, -1);
	lua_pop(L, 1);	/* the string stays in the options table */
	return s;
}

int option_word(lua_State *L, const struct target *t, int opts, const char *name, int def)
{
	const struct option *o = declared(t, name, strlen(name));
	const char *s = option_string(L, opts, name);

	for (int i = 0; s && o && o->words && o->words[i]; i++)
		if (strcmp(o->words[i], s) == 0)
			return i;
	return def;
}

const char *option_checkstring(lua_State *L, int arg)
{
	size_t len;
	const char *s = luaL_checklstring(L, arg, &len);
	char q[96];

	if (strlen(s) != len)
		bpfiter_argerror(L, arg, "must not contain NUL bytes, got %s", quoted(q, sizeof(q), s, len));
	return s;
}

static void push_option(lua_State *L, const struct option *o)
{
	static const char *const scopes[] = {
		[OPT_KERNEL] = "kernel", [OPT_READER] = "reader", [OPT_LUA] = "lua",
	};

	lua_createtable(L, 0, 9);
	lua_pushstring(L, o->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, type_names[o->type]);
	lua_setfield(L, -2, "type");
	lua_pushstring(L, scopes[o->scope]);
	lua_setfield(L, -2, "scope");
	if (o->type == OPT_INTEGER || o->type == OPT_INTEGER_OR_STRING) {
		lua_pushinteger(L, o->min);
		lua_setfield(L, -2, "min");
		lua_pushinteger(L, o->max);
		lua_setfield(L, -2, "max");
	}
	if (o->words) {
		int k = 0;

		lua_newtable(L);
		for (const char *const *w = o->words; *w; w++) {
			lua_pushstring(L, *w);
			lua_rawseti(L, -2, ++k);
		}
		lua_setfield(L, -2, "words");
	}
	lua_pushboolean(L, o->required);
	lua_setfield(L, -2, "required");
	lua_pushstring(L, o->arg ? o->arg : type_names[o->type]);
	lua_setfield(L, -2, "arg");
	lua_pushstring(L, o->help);
	lua_setfield(L, -2, "help");
}

void options_push(lua_State *L, const struct target *t)
{
	int n = 0;

	lua_newtable(L);
	for (const struct option *o = t->options; o && o->name; o++) {
		if (o->scope == OPT_INTERNAL)
			continue;
		push_option(L, o);
		lua_rawseti(L, -2, ++n);
	}
	for (const struct option *o = generic_options; o->name; o++) {
		push_option(L, o);
		lua_rawseti(L, -2, ++n);
	}
}

/* check_options(target, opts) -> nil | message */
static int check_options(lua_State *L)
{
	const char *name = option_checkstring(L, 1);
	char msg[512];

	for (size_t i = 0; i < bpfiter_ntargets; i++) {
		const struct target *t = bpfiter_targets[i];

		if (strcmp(t->name, name) != 0)
			continue;
		if (lua_isnoneornil(L, 2))
			return 0;
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_settop(L, 2);
		if (!options_problem(L, t, 2, OPT_KERNEL | OPT_READER | OPT_LUA, msg, sizeof(msg)))
			return 0;
		lua_pushstring(L, msg);
		return 1;
	}
	return bpfiter_argerror(L, 1, "unknown target '%s'", name);
}

void options_register(lua_State *L)
{
	lua_pushcfunction(L, check_options);
	lua_setfield(L, -2, "check_options");
}
