/* Map keys and values with BTF -> Lua values (bpftool's formatted view). */
#ifndef BPFITER_BTF_VALUE_H
#define BPFITER_BTF_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <bpf/btf.h>

/* Pushes the value of BTF type type_id laid out at p, of which avail bytes
 * may be read; nil when the type needs more bytes or is not a value. */
void btf_value_push(lua_State *L, const struct btf *btf, uint32_t type_id, const void *p,
		    size_t avail);

#endif
