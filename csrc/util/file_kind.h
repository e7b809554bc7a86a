/* The `kind` of an open file (files{} and the targets of epoll items). */
#ifndef BPFITER_FILE_KIND_H
#define BPFITER_FILE_KIND_H

#include <stddef.h>
#include <stdint.h>

/* "file", "dir", "pipe", "socket", "epoll", "eventfd", ... from the inode's
 * i_mode and the path readlink(/proc/PID/fd/N) shows (len bytes, not
 * NUL-terminated; len 0: unknown). Never NULL. */
const char *file_kind_of(uint32_t mode, const char *path, size_t len);

#endif
