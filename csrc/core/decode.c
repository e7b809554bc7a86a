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

/* Keys come ready-made from the table at index keys: looking C strings up
 * for every field of every record was a visible share of a walk. */
void decode_record(lua_State *L, const struct target *t, const void *rec, int keys, int nkeys)
{
	int i = 1;

	lua_createtable(L, 0, nkeys + 2);
	for (const struct field *f = t->fields; f->name; f++, i++) {
		lua_rawgeti(L, keys, i);
		if (push_value(L, t, f, rec))
			lua_rawset(L, -3);
		else
			lua_pop(L, 1);
	}
	if (t->derive)
		t->derive(L, rec);
}
