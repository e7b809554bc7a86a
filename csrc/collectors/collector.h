/* What the event collectors (cpu_wait, cache_activity) share. */
#ifndef BPFITER_COLLECTOR_H
#define BPFITER_COLLECTOR_H

#include <lua.h>

/* collector:wait(seconds): sleeps the seconds at index arg (a programmer
 * error if negative or absurd), resuming after signals. */
void collector_sleep(lua_State *L, int arg);

#endif
