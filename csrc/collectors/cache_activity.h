/* core.cache_activity: the page-cache activity collector (cache_activity.c). */
#ifndef BPFITER_CACHE_ACTIVITY_H
#define BPFITER_CACHE_ACTIVITY_H

#include <lua.h>

/* Adds cache_activity (the collector's constructor) to the table on top. */
void cache_activity_register(lua_State *L);

#endif
