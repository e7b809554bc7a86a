/* LD_PRELOAD shim for spec/21-views: plays the user who owns a pin's
 * directory, at the worst moment, so the race pin() must survive is
 * reproduced every time instead of once in thousands of tries. Once
 * SWAP_NAME exists, the first call of the kind SWAP_AT names ("chmod": any
 * chmod-family call; "open": an O_PATH open of SWAP_NAME's last
 * component) renames SWAP_LINK (a symlink the spec made) over SWAP_NAME,
 * then does the call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void swap(const char *at)
{
	const char *link = getenv("SWAP_LINK"), *name = getenv("SWAP_NAME");
	const char *when = getenv("SWAP_AT");
	struct stat st;

	if (link && name && when && strcmp(when, at) == 0 && lstat(name, &st) == 0 &&
	    S_ISREG(st.st_mode))
		rename(link, name);
}

int chmod(const char *path, mode_t mode)
{
	int (*real)(const char *, mode_t) = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "chmod");

	swap("chmod");
	return real(path, mode);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	int (*real)(int, const char *, mode_t, int) =
		(int (*)(int, const char *, mode_t, int))dlsym(RTLD_NEXT, "fchmodat");

	swap("chmod");
	return real(dirfd, path, mode, flags);
}

int fchmod(int fd, mode_t mode)
{
	int (*real)(int, mode_t) = (int (*)(int, mode_t))dlsym(RTLD_NEXT, "fchmod");

	swap("chmod");
	return real(fd, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	int (*real)(int, const char *, int, ...) =
		(int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	const char *name = getenv("SWAP_NAME"), *base = name ? strrchr(name, '/') : NULL;

	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if ((flags & O_PATH) && base && strcmp(path, base + 1) == 0)
		swap("open");
	return real(dirfd, path, flags, mode);
}

/* the same function on 64-bit glibc */
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));
