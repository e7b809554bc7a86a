/* Page-cache churn for bench/cache_activity.lua: prints the wall-clock ns
 * (CLOCK_MONOTONIC) its ROUNDS took, then exits.
 *
 *   cache_churn read PATH MIB ROUNDS    each round: drop PATH from the cache
 *                                       (fadvise DONTNEED), read it all
 *   cache_churn write PATH MIB ROUNDS   each round: write MIB MiB, truncate
 *                                       to 0 before any writeback (no I/O)
 *   cache_churn files DIR N ROUNDS      each round: for each of N files of
 *                                       16 KiB in DIR (made by the first
 *                                       call), drop it from the cache, read
 *                                       it: small folios, one event per page
 *   cache_churn make PATH MIB           create PATH with MIB MiB, written back
 *
 * read is the realistic case (every page is added and removed once per
 * round, the reads hit the disk); write is the worst case for a tracer:
 * page-cache adds, dirtying and removals at memory speed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_all(int fd, long mib)
{
	for (long i = 0; i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("write");
}

/* N files of 16 KiB named DIR/0 .. DIR/N-1. */
static int small_files(const char *dir, long n, long rounds)
{
	char path[4200];
	long long t0;
	int fd;

	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%ld", dir, i);
		if (access(path, F_OK) == 0)
			continue;
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0 || write(fd, buf, 16384) != 16384 || fsync(fd) || close(fd))
			die(path);
	}
	t0 = now_ns();
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/%ld", dir, i);
			fd = open(path, O_RDONLY);
			if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
				die(path);
			if (read(fd, buf, sizeof(buf)) != 16384)
				die("read");
			close(fd);
		}
	}
	printf("%lld\n", now_ns() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	long mib, rounds;
	long long t0;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: %s read|write|make PATH MIB [ROUNDS]\n", argv[0]);
		return 2;
	}
	mib = atol(argv[3]);
	rounds = argc > 4 ? atol(argv[4]) : 0;
	memset(buf, 'x', sizeof(buf));
	if (strcmp(argv[1], "make") == 0) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			die(argv[2]);
		write_all(fd, mib);
		if (fsync(fd))
			die("fsync");
		return close(fd) ? 1 : 0;
	}
	if (strcmp(argv[1], "files") == 0)
		return small_files(argv[2], mib, rounds);
	fd = open(argv[2], O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		die(argv[2]);
	t0 = now_ns();
	for (long r = 0; r < rounds; r++) {
		if (strcmp(argv[1], "read") == 0) {
			ssize_t n;

			if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) || lseek(fd, 0, SEEK_SET))
				die("drop");
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				;
			if (n < 0)
				die("read");
		} else {
			if (lseek(fd, 0, SEEK_SET))
				die("lseek");
			write_all(fd, mib);
			if (ftruncate(fd, 0))
				die("ftruncate");
		}
	}
	printf("%lld\n", now_ns() - t0);
	return 0;
}
