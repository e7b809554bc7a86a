/* Ground-truth processes for the specs and benchmarks. Each mode builds a
 * known set of kernel objects, writes what it built to READY (a file, one
 * "key value..." line each, renamed into place when complete) and waits
 * until its stdin reaches EOF, then exits. It dies with its parent.
 *
 *   fixture threads N NAME READY   N extra threads named NAME-1..NAME-N
 *   fixture files DIR READY        regular file, dir, pipe, socketpair, TCP
 *                                  socket, epoll, eventfd, timerfd, signalfd,
 *                                  memfd, O_CLOEXEC, /dev/null
 *   fixture maps N DIR READY       N separate anonymous mappings plus file,
 *                                  shared and offset mappings
 *   fixture churn SECONDS READY    forks children that open files and exit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "fixture_ready.h"

static pthread_barrier_t named;

static void *thread_main(void *arg)
{
	prctl(PR_SET_NAME, (char *)arg);
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return NULL;
}

static void mode_threads(int n, const char *name)
{
	pthread_attr_t attr;

	prctl(PR_SET_NAME, name);
	pthread_barrier_init(&named, NULL, n + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 1; i <= n; i++) {
		pthread_t t;
		char *tname = malloc(24);

		snprintf(tname, 24, "%.8s-%d", name, i % 100000);
		if (pthread_create(&t, &attr, thread_main, tname))
			die("pthread_create");
	}
	pthread_barrier_wait(&named);
	fprintf(ready, "threads %d\n", n);
	ready_done_and_wait();
}

static void note_fd(const char *name, int fd)
{
	if (fd < 0)
		die(name);
	fprintf(ready, "%s %d\n", name, fd);
}

static void mode_files(const char *dir)
{
	char path[4096];
	int fds[2], sv[2], fd;
	sigset_t mask;
	struct sockaddr_in addr = { .sin_family = AF_INET };

	snprintf(path, sizeof(path), "%s/regular.txt", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	note_fd("regular", fd);
	if (write(fd, "hello, bpfiter\n", 15) != 15)
		die("write");
	lseek(fd, 6, SEEK_SET);
	snprintf(path, sizeof(path), "%s/append.log", dir);
	note_fd("append", open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
	note_fd("dir", open(dir, O_RDONLY | O_DIRECTORY));
	if (pipe(fds))
		die("pipe");
	note_fd("pipe_r", fds[0]);
	note_fd("pipe_w", fds[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	note_fd("unix_a", sv[0]);
	note_fd("unix_b", sv[1]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	note_fd("tcp", fd);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1))
		die("listen");
	note_fd("epoll", epoll_create1(EPOLL_CLOEXEC));
	note_fd("eventfd", eventfd(0, EFD_NONBLOCK));
	note_fd("timerfd", timerfd_create(CLOCK_MONOTONIC, 0));
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	note_fd("signalfd", signalfd(-1, &mask, 0));
	note_fd("memfd", memfd_create("bpfiter-memfd", 0));
	note_fd("devnull", open("/dev/null", O_RDONLY));
	snprintf(path, sizeof(path), "%s/deleted.txt", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	note_fd("deleted", fd);
	unlink(path);
	note_fd("high", dup2(fd, 200));
	ready_done_and_wait();
}

static void mode_maps(int n, const char *dir)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[4096];
	char *area;
	int fd;

	/* Reserve a region, then alternate protections page by page so no two
	 * neighbouring mappings can merge. */
	area = mmap(NULL, (size_t)page * 2 * n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap reserve");
	for (int i = 0; i < n; i++) {
		int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		if (mmap(area + (size_t)page * 2 * i, page, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			die("mmap");
	}
	fprintf(ready, "anon_start %lu\n", (unsigned long)area);
	snprintf(path, sizeof(path), "%s/mapped.bin", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, page * 8))
		die("mapped file");
	area = mmap(NULL, page * 2, PROT_READ, MAP_SHARED, fd, page * 4);
	if (area == MAP_FAILED)
		die("mmap file");
	fprintf(ready, "file_map %lu\n", (unsigned long)area);
	area = mmap(NULL, page * 3, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, page * 2);
	if (area == MAP_FAILED)
		die("mmap file private");
	fprintf(ready, "file_map_private %lu\n", (unsigned long)area);
	area = mmap(NULL, page * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap shared anon");
	fprintf(ready, "shared_anon %lu\n", (unsigned long)area);
	ready_done_and_wait();
}

static void mode_churn(double seconds)
{
	struct timespec t0, t;
	long spawned = 0;

	fprintf(ready, "churning 1\n");
	ready_publish();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/proc/self/status", O_RDONLY);
			void *m = mmap(NULL, 1 << 16, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			(void)m;
			if (fd >= 0)
				close(fd);
			_exit(0);
		}
		if (pid > 0)
			spawned++;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	while (wait(NULL) > 0)
		;
	(void)spawned;
}

int main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc == 5 && strcmp(argv[1], "threads") == 0) {
		ready_open(argv[4]);
		mode_threads(atoi(argv[2]), argv[3]);
	} else if (argc == 4 && strcmp(argv[1], "files") == 0) {
		ready_open(argv[3]);
		mode_files(argv[2]);
	} else if (argc == 5 && strcmp(argv[1], "maps") == 0) {
		ready_open(argv[4]);
		mode_maps(atoi(argv[2]), argv[3]);
	} else if (argc == 4 && strcmp(argv[1], "churn") == 0) {
		ready_open(argv[3]);
		mode_churn(atof(argv[2]));
	} else {
		fprintf(stderr, "usage: see the comment at the top of spec/fixture.c\n");
		return 2;
	}
	return 0;
}
