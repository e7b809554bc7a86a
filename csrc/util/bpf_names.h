/* Names of the kernel's BPF enums (program, map, link and attach types), as
 * bpftool prints them: the uapi constant without its prefix, lower case. */
#ifndef BPFITER_BPF_NAMES_H
#define BPFITER_BPF_NAMES_H

#include <stdint.h>
#include <lua.h>

/* Push the name of a value, or the value as a decimal string when this
 * build does not know it (a kernel newer than the table). */
void push_prog_type_name(lua_State *L, uint32_t type);
void push_map_type_name(lua_State *L, uint32_t type);
void push_link_type_name(lua_State *L, uint32_t type);
void push_attach_type_name(lua_State *L, uint32_t type);

#endif
