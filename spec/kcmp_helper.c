/* kcmp(KCMP_EPOLL_TFD) for spec/30-epoll_spec.lua and bench/epoll.lua: the
 * way CRIU checks that an epoll item's registered fd number still refers to
 * the file the item watches.
 *
 *   kcmp_helper < LINES     each line "PID EPFD TFD": prints kcmp's answer
 *                           for fd TFD of PID against the item (TFD) of
 *                           epoll fd EPFD: 0 same file, 1 or 2 not, -ERRNO
 *   kcmp_helper criu PID... the CRIU way in C, for comparison: every epoll
 *                           fd of each PID (readlink /proc/PID/fd/N), its
 *                           /proc/PID/fdinfo parsed, one kcmp per item;
 *                           prints "items N same M"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>

static long kcmp_tfd(int pid, int epfd, int tfd)
{
	struct kcmp_epoll_slot slot = { .efd = (__u32)epfd, .tfd = (__u32)tfd, .toff = 0 };
	long r = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, (unsigned long)&slot);

	return r < 0 ? -errno : r;
}

static void criu(int pid, long *items, long *same)
{
	char path[64], link[64], line[256];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		int epfd = atoi(e->d_name);
		ssize_t n;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, epfd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventpoll]") != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, epfd);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			int tfd;
			unsigned events;
			unsigned long long data, ino;
			long long pos;
			unsigned sdev;

			if (sscanf(line, "tfd: %d events: %x data: %llx pos:%lli ino:%llx sdev:%x",
				   &tfd, &events, &data, &pos, &ino, &sdev) != 6)
				continue;
			(*items)++;
			if (kcmp_tfd(pid, epfd, tfd) == 0)
				(*same)++;
		}
		fclose(f);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	int pid, epfd, tfd;

	if (argc > 2 && strcmp(argv[1], "criu") == 0) {
		long items = 0, same = 0;

		for (int i = 2; i < argc; i++)
			criu(atoi(argv[i]), &items, &same);
		printf("items %ld same %ld\n", items, same);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: see the comment at the top of spec/kcmp_helper.c\n");
		return 2;
	}
	while (scanf("%d %d %d", &pid, &epfd, &tfd) == 3)
		printf("%ld\n", kcmp_tfd(pid, epfd, tfd));
	return 0;
}
