/* Ground truth for spec/50-pagecache_spec.lua: puts known pages of known
 * files into (and out of) the page cache, and reads the kernel's own
 * answers (cachestat(2), mincore(2)). Page numbers are in units of the
 * page size; every read and write touches one page per system call unless
 * told otherwise, so folios stay order 0 and counts are exact.
 *
 * One-shot commands (print their results on stdout, exit 0):
 *   create PATH MIB            write MIB MiB of non-zero data, fsync
 *   write_exit PATH MIB        write MIB MiB (no fsync) and exit
 *   sparse PATH NPAGES         make PATH a hole of NPAGES pages (ftruncate)
 *   drop PATH                  fsync, then POSIX_FADV_DONTNEED the whole file
 *   read PATH FIRST N [STEP [random|normal]]
 *                              pread N single pages FIRST, FIRST+STEP, ...;
 *                              random (default) sets POSIX_FADV_RANDOM first,
 *                              so readahead adds nothing; normal does not
 *   readchunks PATH FIRST N CHUNK
 *                              POSIX_FADV_RANDOM, then pread pages FIRST..
 *                              FIRST+N-1 CHUNK pages per call; prints
 *                              "seconds S"
 *   dirty PATH FIRST N [STEP]  pwrite N single pages, no fsync: they stay dirty
 *   evict PATH FIRST N         reclaim the resident pages among FIRST..FIRST+N-1
 *                              as memory pressure would (mmap, touch,
 *                              MADV_PAGEOUT), which leaves shadow entries;
 *                              prints "evicted K" (K pages were resident)
 *   cachestat PATH [OFF LEN]   "cache dirty writeback evicted recently_evicted"
 *                              in pages, from cachestat(2) (LEN 0: to the end)
 *   resident PATH              the resident pages as mincore(2) sees them,
 *                              one "FIRST LAST" range a line
 *   stat PATH                  "ino dev generation size" (generation from
 *                              FS_IOC_GETVERSION, -1 where unsupported)
 *
 * Fixtures that stay (H.spawn: the last argument is READY):
 *   hold PATH fd|mmap|both READY
 *                              keep PATH open (fd), or mapped MAP_SHARED with
 *                              every page touched and the fd closed (mmap),
 *                              or both; READY: ino, dev, pages mapped
 *   deleted PATH MIB READY     create PATH with MIB MiB, fsync, unlink it,
 *                              keep it open; READY: ino, dev
 *   memfd MIB READY            a memfd with MIB MiB written; READY: ino,
 *                              fd, path (/proc/PID/fd/N)
 *   churn DIR READY            until stdin closes: create, fill, read,
 *                              truncate, evict, unlink files in DIR, some
 *                              while another fd holds them open
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <linux/fs.h>

#include "fixture_ready.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

struct cachestat_range {
	uint64_t off, len;
};

struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static long page;

static long long num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end || v < 0) {
		fprintf(stderr, "not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0644);

	if (fd < 0)
		die(path);
	return fd;
}

/* Page P of every file holds bytes no page of the zero page or a hole has. */
static void fill_page(char *buf, long long p)
{
	for (long i = 0; i < page; i += 8)
		snprintf(buf + i, 9, "%07llx", (p * 31 + i / 8) & 0xfffffff);
	memset(buf + page - 1, '\n', 1);
}

static void write_mib(int fd, long long mib)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	long per = chunk / page;

	if (!buf)
		die("malloc");
	for (long long m = 0; m < mib; m++) {
		for (long i = 0; i < per; i++)
			fill_page(buf + i * page, m * per + i);
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			die("write");
	}
	free(buf);
}

static void cmd_create(const char *path, long long mib, int sync)
{
	int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);

	write_mib(fd, mib);
	if (sync && fsync(fd))
		die("fsync");
	close(fd);
}

static void cmd_sparse(const char *path, long long npages)
{
	int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);

	if (ftruncate(fd, npages * page))
		die("ftruncate");
	close(fd);
}

static void cmd_drop(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	int err;

	if (fsync(fd))
		die("fsync");
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (err) {
		errno = err;
		die("posix_fadvise DONTNEED");
	}
	close(fd);
}

static void advise_random(int fd)
{
	int err = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);

	if (err) {
		errno = err;
		die("posix_fadvise RANDOM");
	}
}

static void cmd_read(const char *path, long long first, long long n, long long step, int random)
{
	int fd = open_or_die(path, O_RDONLY);
	char *buf = malloc(page);

	if (!buf)
		die("malloc");
	if (random)
		advise_random(fd);
	for (long long i = 0; i < n; i++)
		if (pread(fd, buf, page, (first + i * step) * page) < 0)
			die("pread");
	free(buf);
	close(fd);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void cmd_readchunks(const char *path, long long first, long long n, long long chunk)
{
	int fd = open_or_die(path, O_RDONLY);
	char *buf = malloc(chunk * page);
	double t0 = now();

	if (!buf || chunk < 1)
		die("malloc");
	advise_random(fd);
	for (long long p = first; p < first + n; p += chunk) {
		long long k = first + n - p < chunk ? first + n - p : chunk;
		if (pread(fd, buf, k * page, p * page) < 0)
			die("pread");
	}
	printf("seconds %.3f\n", now() - t0);
	free(buf);
	close(fd);
}

static void cmd_dirty(const char *path, long long first, long long n, long long step)
{
	int fd = open_or_die(path, O_WRONLY);
	char *buf = malloc(page);

	if (!buf)
		die("malloc");
	for (long long i = 0; i < n; i++) {
		long long p = first + i * step;
		fill_page(buf, p + 7);
		if (pwrite(fd, buf, page, p * page) != page)
			die("pwrite");
	}
	free(buf);
	close(fd);
}

/* Maps the cached pages among the n at map (touching them) and counts them. */
static long long touch_resident(volatile char *map, long long n, unsigned char *vec)
{
	long long resident = 0;
	char sink = 0;

	/* Touch only what is cached: a fault on a missing page would read it
	 * (and its neighbours) in. */
	if (mincore((void *)map, n * page, vec))
		die("mincore");
	for (long long i = 0; i < n; i++)
		if (vec[i] & 1) {
			sink ^= map[i * page];
			resident++;
		}
	(void)sink;
	return resident;
}

/* MADV_PAGEOUT is best effort: it skips a folio that is not on an LRU list
 * yet -- still in the per-CPU batch of the CPU that read it, which only
 * that CPU drains (MADV_PAGEOUT drains the caller's) -- or briefly locked.
 * So it is repeated, boundedly, from each allowed CPU in turn until none
 * of the pages is left. */
static void cmd_evict(const char *path, long long first, long long n)
{
	int fd = open_or_die(path, O_RDONLY);
	unsigned char *vec = malloc(n);
	volatile char *map;
	long long resident, left;
	cpu_set_t allowed;

	if (!vec)
		die("malloc");
	map = mmap(NULL, n * page, PROT_READ, MAP_SHARED, fd, first * page);
	if (map == MAP_FAILED)
		die("mmap");
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		die("sched_getaffinity");
	resident = left = touch_resident(map, n, vec);
	for (int try = 0, cpu = 0; left > 0 && try < 200; try++) {
		cpu_set_t one;

		while (!CPU_ISSET(cpu % CPU_SETSIZE, &allowed))
			cpu++;
		CPU_ZERO(&one);
		CPU_SET(cpu % CPU_SETSIZE, &one);
		cpu++;
		if (sched_setaffinity(0, sizeof(one), &one))
			die("sched_setaffinity");
		if (try >= CPU_COUNT(&allowed))
			usleep(10000);
		if (madvise((void *)map, n * page, MADV_PAGEOUT))
			die("madvise MADV_PAGEOUT");
		left = touch_resident(map, n, vec);
	}
	if (left > 0)
		die("MADV_PAGEOUT left pages resident after 200 tries");
	printf("evicted %lld\n", resident);
	munmap((void *)map, n * page);
	free(vec);
	close(fd);
}

static void cmd_cachestat(const char *path, long long off, long long len)
{
	int fd = open_or_die(path, O_RDONLY);
	struct cachestat_range range = { off, len };
	struct cachestat cs;

	if (syscall(__NR_cachestat, fd, &range, &cs, 0))
		die("cachestat");
	printf("%llu %llu %llu %llu %llu\n", (unsigned long long)cs.nr_cache,
	       (unsigned long long)cs.nr_dirty, (unsigned long long)cs.nr_writeback,
	       (unsigned long long)cs.nr_evicted, (unsigned long long)cs.nr_recently_evicted);
	close(fd);
}

static void cmd_resident(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	struct stat st;
	long long n, start = -1;
	unsigned char *vec;
	void *map;

	if (fstat(fd, &st))
		die("fstat");
	n = (st.st_size + page - 1) / page;
	if (n == 0)
		return;
	vec = malloc(n);
	map = mmap(NULL, n * page, PROT_READ, MAP_SHARED, fd, 0);
	if (!vec || map == MAP_FAILED)
		die("mmap");
	if (mincore(map, n * page, vec))
		die("mincore");
	for (long long i = 0; i <= n; i++) {
		int in = i < n && (vec[i] & 1);
		if (in && start < 0)
			start = i;
		if (!in && start >= 0) {
			printf("%lld %lld\n", start, i - 1);
			start = -1;
		}
	}
	munmap(map, n * page);
	free(vec);
	close(fd);
}

static void cmd_stat(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	struct stat st;
	int gen;
	long long generation = -1;

	if (fstat(fd, &st))
		die("fstat");
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0)
		generation = (unsigned int)gen;
	printf("%llu %llu %lld %lld\n", (unsigned long long)st.st_ino,
	       (unsigned long long)st.st_dev, generation, (long long)st.st_size);
	close(fd);
}

static void note_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	fprintf(ready, "ino %llu\n", (unsigned long long)st.st_ino);
	fprintf(ready, "dev %llu\n", (unsigned long long)st.st_dev);
	fprintf(ready, "size %lld\n", (long long)st.st_size);
}

static void mode_hold(const char *path, const char *how)
{
	int fd = open_or_die(path, O_RDONLY);
	int want_fd = strcmp(how, "mmap") != 0, want_map = strcmp(how, "fd") != 0;

	note_inode(fd);
	if (want_map) {
		struct stat st;
		volatile char *map;
		long long n;
		char sink = 0;

		if (fstat(fd, &st))
			die("fstat");
		n = (st.st_size + page - 1) / page;
		map = mmap(NULL, n * page, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap");
		for (long long i = 0; i < n; i++)
			sink ^= map[i * page];
		(void)sink;
		fprintf(ready, "mapped %lld\n", n);
	}
	if (!want_fd)
		close(fd);
	else
		fprintf(ready, "fd %d\n", fd);
	ready_done_and_wait();
}

static void mode_deleted(const char *path, long long mib)
{
	int fd = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);

	write_mib(fd, mib);
	if (fsync(fd))
		die("fsync");
	note_inode(fd);
	if (unlink(path))
		die("unlink");
	fprintf(ready, "fd %d\n", fd);
	ready_done_and_wait();
}

static void mode_memfd(long long mib)
{
	int fd = memfd_create("bpfiter-pagecache", 0);

	if (fd < 0)
		die("memfd_create");
	write_mib(fd, mib);
	note_inode(fd);
	fprintf(ready, "fd %d\n", fd);
	fprintf(ready, "path /proc/%d/fd/%d\n", getpid(), fd);
	ready_done_and_wait();
}

static int stdin_closed(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char buf[64];

	if (poll(&p, 1, 0) <= 0)
		return 0;
	return read(0, buf, sizeof(buf)) <= 0;
}

static void mode_churn(const char *dir)
{
	char path[4096];
	char *buf = malloc(64 * page);
	long long rounds = 0;

	if (!buf)
		die("malloc");
	memset(buf, 'c', 64 * page);
	fprintf(ready, "churning 1\n");
	ready_publish();
	while (!stdin_closed()) {
		for (int i = 0; i < 16; i++) {
			int fd, keep;

			snprintf(path, sizeof(path), "%s/churn-%d", dir, i);
			fd = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
			for (int k = 0; k < 4; k++)
				if (write(fd, buf, 64 * page) < 0)
					die("write");
			if (pread(fd, buf, page, 3 * page) < 0)
				die("pread");
			keep = open_or_die(path, O_RDONLY);
			if (ftruncate(fd, (rounds + i) % 3 * 37 * page))
				die("ftruncate");
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			if (i % 2 && unlink(path))
				die("unlink");
			if (write(fd, buf, 16 * page) < 0)
				die("write");
			close(fd);
			if (i % 4 == 0)
				posix_fadvise(keep, 0, 0, POSIX_FADV_DONTNEED);
			close(keep);
		}
		rounds++;
	}
	printf("rounds %lld\n", rounds);
	free(buf);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	page = sysconf(_SC_PAGESIZE);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc == 4 && strcmp(cmd, "create") == 0) {
		cmd_create(argv[2], num(argv[3]), 1);
	} else if (argc == 4 && strcmp(cmd, "write_exit") == 0) {
		cmd_create(argv[2], num(argv[3]), 0);
	} else if (argc == 4 && strcmp(cmd, "sparse") == 0) {
		cmd_sparse(argv[2], num(argv[3]));
	} else if (argc == 3 && strcmp(cmd, "drop") == 0) {
		cmd_drop(argv[2]);
	} else if (argc >= 5 && argc <= 7 && strcmp(cmd, "read") == 0) {
		int random = argc < 7 || strcmp(argv[6], "normal") != 0;
		if (argc == 7 && random && strcmp(argv[6], "random") != 0) {
			fprintf(stderr, "read: mode is random or normal\n");
			return 2;
		}
		cmd_read(argv[2], num(argv[3]), num(argv[4]), argc > 5 ? num(argv[5]) : 1, random);
	} else if (argc == 6 && strcmp(cmd, "readchunks") == 0) {
		cmd_readchunks(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	} else if ((argc == 5 || argc == 6) && strcmp(cmd, "dirty") == 0) {
		cmd_dirty(argv[2], num(argv[3]), num(argv[4]), argc > 5 ? num(argv[5]) : 1);
	} else if (argc == 5 && strcmp(cmd, "evict") == 0) {
		cmd_evict(argv[2], num(argv[3]), num(argv[4]));
	} else if ((argc == 3 || argc == 5) && strcmp(cmd, "cachestat") == 0) {
		cmd_cachestat(argv[2], argc > 3 ? num(argv[3]) : 0, argc > 3 ? num(argv[4]) : 0);
	} else if (argc == 3 && strcmp(cmd, "resident") == 0) {
		cmd_resident(argv[2]);
	} else if (argc == 3 && strcmp(cmd, "stat") == 0) {
		cmd_stat(argv[2]);
	} else if (argc == 5 && strcmp(cmd, "hold") == 0) {
		ready_open(argv[4]);
		mode_hold(argv[2], argv[3]);
	} else if (argc == 5 && strcmp(cmd, "deleted") == 0) {
		ready_open(argv[4]);
		mode_deleted(argv[2], num(argv[3]));
	} else if (argc == 4 && strcmp(cmd, "memfd") == 0) {
		ready_open(argv[3]);
		mode_memfd(num(argv[2]));
	} else if (argc == 4 && strcmp(cmd, "churn") == 0) {
		ready_open(argv[3]);
		mode_churn(argv[2]);
	} else {
		fprintf(stderr, "usage: see the comment at the top of spec/pagecache_fixture.c\n");
		return 2;
	}
	return 0;
}
