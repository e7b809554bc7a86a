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

/* The values of enumerators names[0..n) of the running kernel's enum
 * `type` (BTF, parsed once for all of them) in values[]; false unless the
 * kernel has the enum and every name. */
bool kernel_enum_values(const char *type, const char *const names[], int n, long long values[]);

#endif
