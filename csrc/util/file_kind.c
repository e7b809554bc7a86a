/* The kind of an open file, from its i_mode and the name readlink shows. */
#include "file_kind.h"

#include <string.h>
#include <sys/stat.h>

/* Anonymous inodes have no file type bits; their name tells what they are. */
static const char *anon_kind(const char *path, size_t len)
{
	static const struct { const char *name, *kind; } kinds[] = {
		{ "[eventpoll]", "epoll" }, { "[eventfd]", "eventfd" },
		{ "[timerfd]", "timerfd" }, { "[signalfd]", "signalfd" },
		{ "[pidfd]", "pidfd" }, { "inotify", "inotify" },
		{ "[fanotify]", "fanotify" }, { "[io_uring]", "io_uring" },
		{ "[perf_event]", "perf_event" }, { "bpf-map", "bpf-map" },
		{ "bpf-prog", "bpf-prog" }, { "bpf_link", "bpf-link" },
		{ "bpf_iter", "bpf-iter" }, { "[userfaultfd]", "userfaultfd" },
		{ "btf", "btf" },
	};
	static const char prefix[] = "anon_inode:";
	size_t plen = sizeof(prefix) - 1;

	if (len <= plen || memcmp(path, prefix, plen) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (len - plen == strlen(kinds[i].name) &&
		    memcmp(path + plen, kinds[i].name, len - plen) == 0)
			return kinds[i].kind;
	return "anon";
}

const char *file_kind_of(uint32_t mode, const char *path, size_t len)
{
	/* The name first: pidfs gives pidfds a regular-file i_mode (stat()
	 * hides it), yet readlink says anon_inode:[pidfd]. No real path starts
	 * so: they start with '/'. */
	const char *anon = anon_kind(path, len);

	if (anon)
		return anon;
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFSOCK: return "socket";
	case S_IFIFO:
		return len > 5 && memcmp(path, "pipe:", 5) == 0 ? "pipe" : "fifo";
	}
	return "unknown";
}
