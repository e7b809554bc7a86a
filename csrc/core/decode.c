#include "decode.h"

#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "devnum.h"
#include "record_common.h"

/* Pushes the value of field f, or returns 0 when it is absent (nil). */
static int push_value(lua_State *L, const struct target *t, const struct field *f,
		      const char *rec)
{
	const char *p = rec + f->offset;
	uint32_t u32;
	int32_t s32;
	uint64_t u64;
	int64_t s64;
	uint16_t len;

	switch (f->type) {
	case F_U32: memcpy(&u32, p, 4); lua_pushinteger(L, u32); break;
	case F_S32: memcpy(&s32, p, 4); lua_pushinteger(L, s32); break;
	case F_U64: memcpy(&u64, p, 8); lua_pushinteger(L, (lua_Integer)u64); break;
	case F_S64: memcpy(&s64, p, 8); lua_pushinteger(L, s64); break;
	case F_CHARS: lua_pushlstring(L, p, strnlen(p, f->size)); break;
	case F_CHAR: lua_pushlstring(L, p, 1); break;
	case F_BOOL: lua_pushboolean(L, *p != 0); break;
	case F_DEV: memcpy(&u32, p, 4); lua_pushinteger(L, (lua_Integer)kdev_to_user(u32)); break;
	case F_MAJOR: memcpy(&u32, p, 4); lua_pushinteger(L, kdev_major(u32)); break;
	case F_MINOR: memcpy(&u32, p, 4); lua_pushinteger(L, kdev_minor(u32)); break;
	case F_TAIL:	/* tail_len, or a member giving the tail's first part */
		memcpy(&len, p, 2);
		if (len == 0 || len > ((const struct bpfiter_record_head *)rec)->tail_len)
			return 0;
		lua_pushlstring(L, rec + t->record_size, len);
		break;
	default:
		return 0;
	}
	return 1;
}

bool decode_has_field(const struct target *t, const char *name)
{
	for (const struct field *f = t->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return true;
	for (const struct derived_field *d = t->derived; d && d->name; d++)
		if (strcmp(d->name, name) == 0)
			return true;
	return false;
}

int decode_push_keys(lua_State *L, const struct target *t)
{
	int n = 0;

	lua_newtable(L);
	for (const struct field *f = t->fields; f->name; f++) {
		lua_pushstring(L, f->name);
		lua_rawseti(L, -2, ++n);
	}
	return n;
}

void decode_project(lua_State *L, const struct target *t, int keys, int list,
		    struct projection *p)
{
	int i = 1;

	*p = (struct projection){ .active = true, .derive = t->derive_rewrites };
	for (lua_Integer k = 1; lua_rawgeti(L, list, k) == LUA_TSTRING; k++) {
		lua_pushboolean(L, 1);
		lua_rawset(L, keys);	/* keys[name] = true: the asked set */
	}
	lua_pop(L, 1);
	for (const struct field *f = t->fields; f->name; f++, i++) {
		if (lua_getfield(L, keys, f->name) != LUA_TBOOLEAN) {
			lua_pushboolean(L, 0);
			lua_rawseti(L, keys, i);	/* not decoded */
		}
		lua_pop(L, 1);
	}
	for (const struct derived_field *d = t->derived; d && d->name; d++) {
		if (lua_getfield(L, keys, d->name) == LUA_TBOOLEAN)
			p->derive = true;
		lua_pop(L, 1);
	}
}

void decode_drop_unasked(lua_State *L, int keys)
{
	int rec = lua_gettop(L);

	lua_pushnil(L);
	while (lua_next(L, rec)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, keys) != LUA_TBOOLEAN) {
			lua_pushvalue(L, -2);
			lua_pushnil(L);
			lua_rawset(L, rec);	/* clearing a field lua_next has passed is allowed */
		}
		lua_pop(L, 1);
	}
}

/* Keys come ready-made from the table at index keys: looking C strings up
 * for every field of every record was a visible share of a walk. A field
 * the projection leaves out has false there instead of its name. */
void decode_record(lua_State *L, const struct target *t, const void *rec, int keys, int nkeys,
		   const struct projection *p)
{
	int i = 1;

	lua_createtable(L, 0, p->active ? 4 : nkeys + 2);
	for (const struct field *f = t->fields; f->name; f++, i++) {
		if (lua_rawgeti(L, keys, i) == LUA_TSTRING && push_value(L, t, f, rec))
			lua_rawset(L, -3);
		else
			lua_pop(L, 1);
	}
	if (t->derive && (!p->active || p->derive)) {
		t->derive(L, rec);
		if (p->active)
			decode_drop_unasked(L, keys);
	}
}
