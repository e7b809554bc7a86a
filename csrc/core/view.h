/* Pinned views (view.c): core.pin, core.open, core.unpin. */
#ifndef BPFITER_VIEW_H
#define BPFITER_VIEW_H

#include <lua.h>

/* Adds pin, unpin and open to the table on top. */
void view_register(lua_State *L);

#endif
