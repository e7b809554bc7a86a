/* core.cpu_wait: the run-queue wait collector (cpu_wait.c). */
#ifndef BPFITER_CPU_WAIT_H
#define BPFITER_CPU_WAIT_H

#include <lua.h>

/* Adds cpu_wait (the collector's constructor) to the table on top. */
void cpu_wait_register(lua_State *L);

#endif
