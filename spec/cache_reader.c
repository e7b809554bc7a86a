/* Page-cache workload for spec/40-cache_activity_spec.lua and
 * bench/cache_activity.lua.
 *
 *   cache_reader NAME PATH MIB PASSES DIR READY
 *
 * Names itself NAME (comm), creates PATH with MIB MiB (MIB = 0: uses the
 * file as it is), writes it back and drops it from the page cache
 * (posix_fadvise DONTNEED: there is no drop_caches permission here), then
 * publishes READY (pid, dev, ino, generation, pages) and keeps PATH open.
 * For each pass k = 1..PASSES it waits for DIR/goK to exist, reads the
 * whole file sequentially from the start and creates DIR/doneK. With
 * PASSES = 0 it only drops the file from the cache. Exits when stdin
 * reaches EOF. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "fixture_ready.h"

static char buf[1 << 20];

static void wait_for(const char *path)
{
	/* 100 ms steps up to 10 minutes: the spec creates it when ready. */
	for (int i = 0; i < 6000; i++) {
		if (access(path, F_OK) == 0)
			return;
		usleep(100000);
	}
	fprintf(stderr, "%s never appeared\n", path);
	exit(1);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		die(path);
	close(fd);
}

int main(int argc, char **argv)
{
	struct stat st;
	unsigned int generation = 0;
	long mib, passes;
	char path[4200];
	int fd;

	if (argc != 7) {
		fprintf(stderr, "usage: %s NAME PATH MIB PASSES DIR READY\n", argv[0]);
		return 2;
	}
	prctl(PR_SET_NAME, argv[1]);
	mib = atol(argv[3]);
	passes = atol(argv[4]);
	fd = open(argv[2], O_RDWR | O_CREAT | (mib > 0 ? O_TRUNC : 0), 0600);
	if (fd < 0)
		die(argv[2]);
	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("write");
	/* Written back first: DONTNEED leaves dirty pages in the cache. */
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("dropping the file from the page cache");
	if (fstat(fd, &st))
		die("fstat");
	if (ioctl(fd, FS_IOC_GETVERSION, &generation))
		generation = 0;	/* the filesystem has none */

	ready_open(argv[6]);
	fprintf(ready, "dev %llu\nino %llu\ngeneration %u\npages %lld\n",
		(unsigned long long)st.st_dev, (unsigned long long)st.st_ino, generation,
		(long long)((st.st_size + 4095) / 4096));
	if (passes == 0) {
		ready_done_and_wait();
		return 0;
	}
	ready_publish();

	for (long k = 1; k <= passes; k++) {
		snprintf(path, sizeof(path), "%s/go%ld", argv[5], k);
		wait_for(path);
		if (lseek(fd, 0, SEEK_SET) < 0)
			die("lseek");
		/* A fresh readahead state per pass, as a new open would have. */
		posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL);
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read");
			if (n == 0)
				break;
		}
		snprintf(path, sizeof(path), "%s/done%ld", argv[5], k);
		touch(path);
	}
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
