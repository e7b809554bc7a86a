/* One record (a Lua table) as one line of CSV or JSON, for the CLI's
 * streaming writers (lua/bpfiter/format.lua): the formatting in Lua cost
 * 2.5-7 us a record, more than the walk. Only the common cases are done
 * here, byte for byte as format.lua writes them; a row with anything else
 * (a float, a nested table, text that needs quoting rules beyond the
 * simple ones) returns nil and format.lua writes it. */
#include "text_row.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

/* A field's value, taken off the stack before it goes into the buffer
 * (a luaL_Buffer may hold a stack slot: values cannot wait above it).
 * Strings stay alive in the record table. */
struct cell {
	int type;
	bool flag;
	lua_Integer i;
	const char *s;
	size_t len;
};

static void take_cell(lua_State *L, struct cell *c)
{
	*c = (struct cell){ .type = lua_type(L, -1) };
	if (c->type == LUA_TBOOLEAN)
		c->flag = lua_toboolean(L, -1);
	else if (c->type == LUA_TNUMBER && lua_isinteger(L, -1))
		c->i = lua_tointeger(L, -1), c->flag = true;
	else if (c->type == LUA_TSTRING)
		c->s = lua_tolstring(L, -1, &c->len);
	lua_pop(L, 1);
}

static void add_integer(luaL_Buffer *b, lua_Integer v)
{
	char num[24];

	luaL_addlstring(b, num, (size_t)snprintf(num, sizeof(num), LUA_INTEGER_FMT, v));
}

/* Appends c as a CSV cell; false when Lua must do it. */
static bool csv_cell(luaL_Buffer *b, const struct cell *c)
{
	switch (c->type) {
	case LUA_TNIL:
		return true;
	case LUA_TBOOLEAN:
		luaL_addstring(b, c->flag ? "true" : "false");
		return true;
	case LUA_TNUMBER:
		if (!c->flag)
			return false;	/* a float: tostring's %.14g in Lua */
		add_integer(b, c->i);
		return true;
	case LUA_TSTRING:
		if (memchr(c->s, '\0', c->len) || strpbrk(c->s, ",\"\r\n"))
			return false;	/* quoting: format.lua's csv_quote */
		luaL_addlstring(b, c->s, c->len);
		return true;
	}
	return false;
}

/* Appends c as a JSON value; false when Lua must do it. Strings go
 * through here only when they are printable ASCII without " or \: the
 * rest (escapes, UTF-8 checks, byte arrays) is format.lua's json_string. */
static bool json_cell(luaL_Buffer *b, const struct cell *c)
{
	switch (c->type) {
	case LUA_TNIL:
		luaL_addstring(b, "null");
		return true;
	case LUA_TBOOLEAN:
		luaL_addstring(b, c->flag ? "true" : "false");
		return true;
	case LUA_TNUMBER:
		if (!c->flag)
			return false;
		add_integer(b, c->i);
		return true;
	case LUA_TSTRING:
		for (size_t i = 0; i < c->len; i++)
			if ((unsigned char)c->s[i] < 0x20 || (unsigned char)c->s[i] >= 0x7f ||
			    c->s[i] == '"' || c->s[i] == '\\')
				return false;
		luaL_addchar(b, '"');
		luaL_addlstring(b, c->s, c->len);
		luaL_addchar(b, '"');
		return true;
	}
	return false;
}

/* text_row(json, fields, record) -> the row's text (no newline) or nil.
 * fields: the column names in order (at least one); json: a JSON object
 * with them as keys (names are identifiers: written as they are), else
 * a CSV line. */
static int text_row(lua_State *L)
{
	bool json = lua_toboolean(L, 1);
	lua_Integer n;
	luaL_Buffer b;

	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	lua_settop(L, 3);
	luaL_buffinit(L, &b);
	for (lua_Integer i = 1; i <= n; i++) {
		struct cell c;

		if (json) {
			luaL_addstring(&b, i == 1 ? "{\"" : ",\"");
			lua_rawgeti(L, 2, i);
			luaL_addvalue(&b);
			luaL_addstring(&b, "\":");
		} else if (i > 1) {
			luaL_addchar(&b, ',');
		}
		lua_rawgeti(L, 2, i);
		lua_rawget(L, 3);
		take_cell(L, &c);
		if (!(json ? json_cell(&b, &c) : csv_cell(&b, &c))) {
			luaL_pushresult(&b);
			lua_pushnil(L);
			return 1;
		}
	}
	if (json)
		luaL_addchar(&b, '}');
	luaL_pushresult(&b);
	return 1;
}

void text_row_register(lua_State *L)
{
	lua_pushcfunction(L, text_row);
	lua_setfield(L, -2, "text_row");
}
