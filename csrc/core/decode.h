/* Records to Lua tables, driven by a target's field table. The records
 * come checked from the stream (stream.c). */
#ifndef BPFITER_DECODE_H
#define BPFITER_DECODE_H

#include "target.h"

/* Pushes an array of t's field names as Lua strings; returns their number. */
int decode_push_keys(lua_State *L, const struct target *t);

/* Pushes the record as a new table; keys is the stack index of the table
 * decode_push_keys made, nkeys its length. */
void decode_record(lua_State *L, const struct target *t, const void *rec, int keys, int nkeys);

#endif
