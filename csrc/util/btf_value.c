/* A value laid out as a BTF type -> a Lua value, the way bpftool's
 * "formatted" output shows it (btf_dumper.c): integers, enums by name,
 * char arrays as strings, structs and unions as tables (anonymous members
 * flattened), arrays as sequences. Never reads past the bytes given. */
#include "btf_value.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bitfield decoding below assumes a little-endian machine"
#endif

#define MAX_DEPTH 32

static void push_btf_value(lua_State *L, const struct btf *btf, uint32_t id,
			   const unsigned char *p, size_t avail, int depth);

/* An integer of nbits at bit offset `bit` from p (little-endian). */
static unsigned __int128 read_bits(const unsigned char *p, size_t avail, uint32_t bit,
				   uint32_t nbits)
{
	unsigned __int128 v = 0;
	size_t first = bit / 8, last = (bit + nbits + 7) / 8;

	for (size_t i = last; i > first; i--)
		v = v << 8 | (i - 1 < avail ? p[i - 1] : 0);
	v >>= bit % 8;
	if (nbits < 128)
		v &= ((unsigned __int128)1 << nbits) - 1;
	return v;
}

static void push_int(lua_State *L, unsigned __int128 v, uint32_t nbits, bool is_signed, bool is_bool)
{
	if (is_bool) {
		lua_pushboolean(L, v != 0);
	} else if (nbits > 64) {
		/* as bpftool prints 128-bit integers */
		char hex[40];
		uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;

		if (hi)
			snprintf(hex, sizeof(hex), "0x%llx%016llx", (unsigned long long)hi,
				 (unsigned long long)lo);
		else
			snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)lo);
		lua_pushstring(L, hex);
	} else if (is_signed && nbits > 0 && nbits < 64 && (v >> (nbits - 1)) & 1) {
		lua_pushinteger(L, (lua_Integer)(uint64_t)(v | ~(((unsigned __int128)1 << nbits) - 1)));
	} else {
		lua_pushinteger(L, (lua_Integer)(uint64_t)v);
	}
}

static const struct btf_type *skip_mods(const struct btf *btf, uint32_t *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);

	for (int i = 0; t && i < MAX_DEPTH && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

/* bpftool shows a char array as a string when it holds printable
 * characters up to a NUL (is_str_array() in its btf_dumper.c). */
static bool is_str_array(const struct btf *btf, const struct btf_array *arr,
			 const unsigned char *p, size_t avail)
{
	const struct btf_type *elem = btf__type_by_id(btf, arr->type);

	if (!arr->nelems || arr->nelems > avail)
		return false;
	while (elem && btf_is_mod(elem))	/* a typedef to char does not count */
		elem = btf__type_by_id(btf, elem->type);
	if (!elem || !btf_is_int(elem) || elem->size != 1)
		return false;
	if (btf_int_encoding(elem) != BTF_INT_CHAR &&
	    strcmp(btf__name_by_offset(btf, elem->name_off), "char") != 0)
		return false;
	for (uint32_t i = 0; i < arr->nelems; i++) {
		if (!p[i])
			return true;
		if (p[i] <= 0x1f || p[i] >= 0x7f)
			return false;
	}
	return false;
}

static void push_enum(lua_State *L, const struct btf *btf, const struct btf_type *t,
		      const unsigned char *p)
{
	bool is_signed = btf_kflag(t);
	uint32_t nbits = t->size * 8;
	unsigned __int128 raw = read_bits(p, t->size, 0, nbits);
	int64_t v = (int64_t)(uint64_t)raw;

	if (is_signed && nbits > 0 && nbits < 64 && (raw >> (nbits - 1)) & 1)
		v = (int64_t)(uint64_t)(raw | ~(((unsigned __int128)1 << nbits) - 1));
	for (int i = 0; i < btf_vlen(t); i++) {
		int64_t ev;
		uint32_t name_off;

		if (btf_is_enum(t)) {
			ev = is_signed ? btf_enum(t)[i].val : (int64_t)(uint32_t)btf_enum(t)[i].val;
			name_off = btf_enum(t)[i].name_off;
		} else {
			ev = (int64_t)btf_enum64_value(btf_enum64(t) + i);
			name_off = btf_enum64(t)[i].name_off;
		}
		if (ev == v) {
			lua_pushstring(L, btf__name_by_offset(btf, name_off));
			return;
		}
	}
	lua_pushinteger(L, v);
}

/* Members of a struct or union into the table on top; anonymous struct and
 * union members are flattened into it, as C reaches them. */
static void fill_members(lua_State *L, const struct btf *btf, const struct btf_type *t,
			 const unsigned char *p, size_t avail, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		uint32_t bit = btf_member_bit_offset(t, i);
		uint32_t nbits = btf_member_bitfield_size(t, i);
		uint32_t mid = m->type;
		const struct btf_type *mt = skip_mods(btf, &mid);

		if (bit / 8 >= avail || !mt)
			continue;
		if (!name || !*name) {
			if (btf_is_composite(mt) && depth < MAX_DEPTH)
				fill_members(L, btf, mt, p + bit / 8, avail - bit / 8, depth + 1);
			continue;
		}
		if (nbits) {
			bool is_signed = btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED);

			push_int(L, read_bits(p, avail, bit, nbits), nbits, is_signed,
				 btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_BOOL));
		} else {
			push_btf_value(L, btf, m->type, p + bit / 8, avail - bit / 8, depth + 1);
		}
		lua_setfield(L, -2, name);
	}
}

/* Pushes the value of type id at p (avail bytes there), or nil. */
static void push_btf_value(lua_State *L, const struct btf *btf, uint32_t id,
			   const unsigned char *p, size_t avail, int depth)
{
	const struct btf_type *t = skip_mods(btf, &id);
	int64_t size = btf__resolve_size(btf, id);

	if (!t || depth > MAX_DEPTH || (size > 0 && (size_t)size > avail) ||
	    (size <= 0 && !btf_is_array(t) && !btf_is_composite(t) && !btf_is_datasec(t))) {
		lua_pushnil(L);
		return;
	}
	luaL_checkstack(L, 4, "decoding a map element");
	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		uint8_t enc = btf_int_encoding(t);

		push_int(L, read_bits(p, avail, btf_int_offset(t), btf_int_bits(t)), btf_int_bits(t),
			 enc & BTF_INT_SIGNED, enc & BTF_INT_BOOL);
		break;
	}
	case BTF_KIND_PTR:
		push_int(L, read_bits(p, avail, 0, 64), 64, false, false);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		push_enum(L, btf, t, p);
		break;
	case BTF_KIND_FLOAT:
		if (t->size == 4) {
			float f;
			memcpy(&f, p, 4);
			lua_pushnumber(L, f);
		} else if (t->size == 8) {
			double d;
			memcpy(&d, p, 8);
			lua_pushnumber(L, d);
		} else {
			lua_pushnil(L);
		}
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *arr = btf_array(t);
		int64_t esize = btf__resolve_size(btf, arr->type);

		if (is_str_array(btf, arr, p, avail)) {
			lua_pushstring(L, (const char *)p);
			break;
		}
		lua_createtable(L, (int)arr->nelems, 0);
		for (uint32_t i = 0; esize > 0 && i < arr->nelems &&
		     (i + 1) * (uint64_t)esize <= avail; i++) {
			push_btf_value(L, btf, arr->type, p + i * esize, avail - i * esize, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		lua_createtable(L, 0, btf_vlen(t));
		fill_members(L, btf, t, p, avail, depth);
		break;
	case BTF_KIND_DATASEC: {
		const struct btf_var_secinfo *v = btf_var_secinfos(t);

		lua_createtable(L, 0, btf_vlen(t));
		for (int i = 0; i < btf_vlen(t); i++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);

			if (!var || !btf_is_var(var) || v->offset >= avail)
				continue;
			push_btf_value(L, btf, var->type, p + v->offset, avail - v->offset, depth + 1);
			lua_setfield(L, -2, btf__name_by_offset(btf, var->name_off) ?: "");
		}
		break;
	}
	case BTF_KIND_VAR:
		push_btf_value(L, btf, t->type, p, avail, depth + 1);
		break;
	default:
		lua_pushnil(L);
	}
}

void btf_value_push(lua_State *L, const struct btf *btf, uint32_t type_id, const void *p,
		    size_t avail)
{
	push_btf_value(L, btf, type_id, p, avail, 0);
}
