/* Records to Lua tables, driven by a target's field table. The records
 * come checked from the stream (stream.c). */
#ifndef BPFITER_DECODE_H
#define BPFITER_DECODE_H

#include "target.h"

/* Pushes an array of t's field names as Lua strings; returns their number. */
int decode_push_keys(lua_State *L, const struct target *t);

/* Whether name is one of t's fields or derived fields. */
bool decode_has_field(const struct target *t, const char *name);

/* A walk's projection (the fields option): only the asked fields are
 * decoded. Not active: every field. */
struct projection {
	bool active;
	bool derive;	/* active: some derived field is asked (or target.derive_rewrites),
			 * so derive runs */
};

/* Turns the keys table at index keys (decode_push_keys) into the
 * projection of the array of names at index list (checked by options.c):
 * keys[name] = true for each asked name, false in place of the fields
 * left out. */
void decode_project(lua_State *L, const struct target *t, int keys, int list,
		    struct projection *p);

/* Clears the fields of the record on top of the stack that the projected
 * keys table at index keys does not ask for (derived fields, a step's). */
void decode_drop_unasked(lua_State *L, int keys);

/* Pushes the record as a new table; keys is the stack index of the table
 * decode_push_keys made, nkeys its length, p the walk's projection. */
void decode_record(lua_State *L, const struct target *t, const void *rec, int keys, int nkeys,
		   const struct projection *p);

#endif
