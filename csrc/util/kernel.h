/* Facts about the running kernel that decide what a program can do on it. */
#ifndef BPFITER_KERNEL_H
#define BPFITER_KERNEL_H

#include <stdbool.h>

/* The running kernel's version as major * 1000 + minor (6.1 -> 6001), from
 * uname's release; 0 when it cannot be read. */
int kernel_version(void);

/* Whether the running kernel's BTF has a function (e.g. a kfunc) `name`, a
 * string literal (the answer is kept for the process). */
bool kernel_has_function(const char *name);

/* The value of enumerator `name` of the running kernel's enum `type`
 * (BTF), in *value; false when the kernel has no such enum or name. */
bool kernel_enum_value(const char *type, const char *name, long long *value);

#endif
