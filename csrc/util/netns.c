/* Creating an iterator fd inside another network namespace (netns.h). */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <bpf/bpf.h>

int netns_open(const char *path, unsigned long inode)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	struct stat st;

	if (fd < 0)
		return -1;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		err = EINVAL;
	else if (inode && (fstat(fd, &st) || st.st_ino != inode))
		err = ESTALE;
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int netns_iter_create(int link_fd, int ns_fd)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = -1, err, tries = 0;

	if (self < 0)
		return -1;
	if (setns(ns_fd, CLONE_NEWNET) == 0) {
		fd = bpf_iter_create(link_fd);
		err = errno;
		while (setns(self, CLONE_NEWNET) != 0) {
			if (++tries < 3)
				continue;
			err = errno;
			if (fd >= 0)
				close(fd);
			close(self);
			errno = err;
			return -2;
		}
		errno = err;
	}
	err = errno;
	close(self);
	errno = err;
	return fd;
}
