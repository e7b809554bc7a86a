/* What the page-cache targets (pagecache.c) add beyond their table
 * entries: core.file_identity. */
#ifndef BPFITER_PAGECACHE_H
#define BPFITER_PAGECACHE_H

#include <lua.h>

/* Adds core.file_identity to the table on top. */
void pagecache_register(lua_State *L);

#endif
