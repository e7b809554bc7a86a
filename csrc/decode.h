/* Records to Lua tables, driven by a target's field table. */
#ifndef BPFITER_DECODE_H
#define BPFITER_DECODE_H

#include "target.h"

/* Checks a stream header or trailer against what target t expects (t NULL:
 * any known target). Returns the target it describes and sets *kind
 * (BPFITER_STREAM_BEGIN/END), or returns NULL with a reason. */
const struct target *decode_header(const void *p, const struct target *t,
				   uint32_t *kind, char *why, size_t whysize);

/* Offset of the record's tail length, or -1 when it has no tail. */
int decode_tail_offset(const struct target *t);

/* Full length of the record at p (fixed part plus tail); only the fixed part
 * needs to be present. */
size_t decode_record_length(const struct target *t, int tail_offset, const void *p);

/* Pushes the record as a new table. */
void decode_record(lua_State *L, const struct target *t, const void *rec);

#endif
