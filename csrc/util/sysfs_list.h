/* Lists of ids as sysfs prints them ("0-3,8,10-11"): possible CPUs, nodes. */
#ifndef BPFITER_SYSFS_LIST_H
#define BPFITER_SYSFS_LIST_H

#include <stdbool.h>

/* Reads the list at path: *count ids, the highest being *end - 1. Returns
 * false when the file cannot be read or holds no id. */
bool sysfs_list_read(const char *path, unsigned *count, unsigned *end);

#endif
