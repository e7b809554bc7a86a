/* core.text_row: records as CSV or JSON lines, for format.lua's writers. */
#ifndef BPFITER_TEXT_ROW_H
#define BPFITER_TEXT_ROW_H

#include <lua.h>

void text_row_register(lua_State *L);

#endif
