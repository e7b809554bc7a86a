/* Records to Lua tables, driven by a target's field table. */
#ifndef BPFITER_DECODE_H
#define BPFITER_DECODE_H

#include "target.h"

/* Checks a stream header or trailer against what target t expects (t NULL:
 * any known target). Returns the target it describes and sets *kind
 * (BPFITER_KIND_BEGIN/END), or returns NULL with a reason. */
const struct target *decode_header(const void *p, const struct target *t,
				   uint32_t *kind, char *why, size_t whysize);

/* Length of the stream item at p, from its first bytes (kind, tail_len);
 * 0 when the kind is unknown. */
size_t decode_item_length(const struct target *t, const void *p);

/* Pushes an array of t's field names as Lua strings; returns their number. */
int decode_push_keys(lua_State *L, const struct target *t);

/* Pushes the record as a new table; keys is the stack index of the table
 * decode_push_keys made, nkeys its length. */
void decode_record(lua_State *L, const struct target *t, const void *rec, int keys, int nkeys);

#endif
