/* Epoll sets for spec/30-epoll_spec.lua and bench/epoll.lua, built in this
 * process (and its children), described in READY, kept until stdin reaches
 * EOF (spec/fixture_ready.h). Items cycle through pipes (both ends),
 * socketpairs (both ends), eventfds, timerfds, signalfds and UDP sockets,
 * with masks from a list and distinct data values.
 *
 *   epoll_fixture sets N,N,... READY   one set per size: "set SIZE EPFD"
 *   epoll_fixture packed COUNT N READY COUNT sets of N items whose epoll fds
 *                                      come after all their targets, so one
 *                                      read() of a walk meets them all: "set
 *                                      N EPFD"
 *   epoll_fixture features DIR READY   one set with every kind of target, a
 *                                      nested set, EPOLLET/ONESHOT/EXCLUSIVE/
 *                                      WAKEUP, a target dup'ed then closed, a
 *                                      registered fd number now another file,
 *                                      a target in no fd (in flight in a
 *                                      unix socket): see mode_features
 *   epoll_fixture many NPROC N READY   NPROC children with one set of N items
 *                                      each: "child PID EPFD"
 *   epoll_fixture churn READY          threads adding, modifying, removing
 *                                      items of a 3,000-item set ("big EPFD")
 *                                      and creating and closing sets, until
 *                                      stdin reaches EOF
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "fixture_ready.h"

/* Masks valid for any target, EPOLLEXCLUSIVE only where the kernel allows
 * it (no ONESHOT, RDHUP or PRI with it). The kernel adds ERR and HUP. */
static const uint32_t masks[] = {
	EPOLLIN,
	EPOLLOUT,
	EPOLLIN | EPOLLOUT | EPOLLET,
	EPOLLIN | EPOLLONESHOT,
	EPOLLIN | EPOLLEXCLUSIVE,
	EPOLLPRI | EPOLLRDHUP,
	EPOLLOUT | EPOLLEXCLUSIVE | EPOLLET,
	EPOLLIN | EPOLLRDHUP | EPOLLONESHOT | EPOLLET,
	0,
	EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP,
	EPOLLRDNORM | EPOLLWRNORM | EPOLLMSG,
};
#define NMASKS (sizeof(masks) / sizeof(masks[0]))

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl ADD");
}

static int check(const char *what, int fd)
{
	if (fd < 0)
		die(what);
	return fd;
}

/* Distinct for distinct (tag, i); many above 2^63. */
static uint64_t data_of(uint64_t tag, uint64_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ tag << 48;
}

/* Opens the files for items i.. of a set: 1 or 2 fds (both ends of a pipe
 * or socketpair), so the fd count stays close to the item count. */
static int open_targets(unsigned i, int fds[2])
{
	static int sigs_blocked;
	sigset_t mask;

	switch (i % 8) {
	case 0: case 1:
		if (pipe2(fds, O_NONBLOCK))
			die("pipe");
		return 2;
	case 2: case 3:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			die("socketpair");
		return 2;
	case 4:
		fds[0] = check("eventfd", eventfd(0, 0));
		return 1;
	case 5:
		fds[0] = check("timerfd", timerfd_create(CLOCK_MONOTONIC, 0));
		return 1;
	case 6:
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		if (!sigs_blocked++)
			sigprocmask(SIG_BLOCK, &mask, NULL);
		fds[0] = check("signalfd", signalfd(-1, &mask, 0));
		return 1;
	default:
		fds[0] = check("udp socket", socket(AF_INET, SOCK_DGRAM, 0));
		return 1;
	}
}

/* A set of n items; returns its fd. */
static int build_set(unsigned n, uint64_t tag)
{
	int ep = check("epoll_create1", epoll_create1(0));
	unsigned i = 0;

	while (i < n) {
		int fds[2];
		int k = open_targets(i, fds);

		for (int j = 0; j < k; j++) {
			if (i < n)
				add(ep, fds[j], masks[i % NMASKS], data_of(tag, i));
			else
				close(fds[j]);
			i++;
		}
	}
	return ep;
}

static void mode_sets(char *sizes)
{
	for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ",")) {
		unsigned n = (unsigned)atoi(tok);

		fprintf(ready, "set %u %d\n", n, build_set(n, n));
	}
	ready_done_and_wait();
}

static void mode_packed(int count, unsigned n)
{
	unsigned total = (unsigned)count * n, k = 0;
	int *fds = malloc(total * sizeof(int));

	if (!fds)
		die("malloc");
	while (k < total) {
		int pair[2];
		int m = open_targets(k, pair);

		for (int j = 0; j < m; j++) {
			if (k < total)
				fds[k++] = pair[j];
			else
				close(pair[j]);
		}
	}
	for (int c = 0; c < count; c++) {
		int ep = check("epoll_create1", epoll_create1(0));

		for (unsigned i = 0; i < n; i++)
			add(ep, fds[(unsigned)c * n + i], masks[i % NMASKS], data_of((uint64_t)c + 1, i));
		fprintf(ready, "set %u %d\n", n, ep);
	}
	free(fds);
	ready_done_and_wait();
}

static void item(const char *name, int ep, int fd, uint32_t events, uint64_t data)
{
	add(ep, fd, events, data);
	fprintf(ready, "item %s %d\n", name, fd);
}

/* Passes fd over a unix socket and leaves it unreceived: the file lives on
 * in the socket's queue, in no fd of any process. */
static void send_fd(int sock, int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static void mode_features(const char *dir)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int outer = check("epoll_create1", epoll_create1(EPOLL_CLOEXEC));
	int inner = check("epoll_create1", epoll_create1(0));
	int p[2], u[2], u2[2], fd, x, xd, r, rd;
	char path[4200];
	sigset_t mask;

	fprintf(ready, "outer %d\ninner %d\n", outer, inner);
	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, u) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, u2))
		die("pipe/socketpair");
	item("pipe_r", outer, p[0], EPOLLIN | EPOLLET, 1);
	item("pipe_w", outer, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 2);
	item("unix_a", outer, u[0], EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, 0x8000000000000000ULL);
	item("unix_b", outer, u[1], EPOLLIN | EPOLLOUT | EPOLLPRI, 0x7fffffffffffffffULL);
	fd = check("tcp", socket(AF_INET, SOCK_STREAM, 0));
	if (bind(fd, (struct sockaddr *)&lo, sizeof(lo)) || listen(fd, 4))
		die("listen");
	item("tcp", outer, fd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, 3);
	item("udp", outer, check("udp", socket(AF_INET6, SOCK_DGRAM, 0)),
	     EPOLLIN | EPOLLWAKEUP, 4);
	item("eventfd", outer, check("eventfd", eventfd(1, EFD_NONBLOCK)),
	     EPOLLIN | EPOLLOUT | EPOLLONESHOT | EPOLLET, 5);
	item("timerfd", outer, check("timerfd", timerfd_create(CLOCK_REALTIME, 0)), EPOLLIN, 6);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	item("signalfd", outer, check("signalfd", signalfd(-1, &mask, 0)), EPOLLIN | EPOLLET, 7);
	item("inotify", outer, check("inotify", inotify_init1(0)), EPOLLIN, 8);
	item("pidfd", outer, check("pidfd", (int)syscall(SYS_pidfd_open, getpid(), 0)), EPOLLIN, 9);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600))
		die("mkfifo");
	item("fifo", outer, check("fifo", open(path, O_RDWR | O_NONBLOCK)), EPOLLIN | EPOLLOUT, 10);
	item("pty", outer, check("ptmx", posix_openpt(O_RDWR | O_NOCTTY)), EPOLLIN | EPOLLPRI, 11);

	/* The inner set shares a target with the outer one. */
	add(inner, p[0], EPOLLIN, 101);
	add(inner, u[1], EPOLLOUT | EPOLLET, 102);
	add(inner, check("eventfd", eventfd(0, 0)), EPOLLIN | EPOLLONESHOT, 103);
	item("nested", outer, inner, EPOLLIN, 0xffffffffffffffffULL);

	/* Registered as r; r now names another file, the item's file is rd. */
	r = check("eventfd", eventfd(0, 0));
	item("reused", outer, r, EPOLLIN | EPOLLET, 12);
	rd = check("dup", dup(r));
	fd = check("eventfd", eventfd(0, 0));
	if (dup2(fd, r) != r)
		die("dup2");
	close(fd);
	fprintf(ready, "reused_dup %d\n", rd);

	/* Registered as x, then x closed: the item stays, its file is xd. */
	x = check("eventfd", eventfd(0, 0));
	item("dup_closed", outer, x, EPOLLOUT, 13);
	xd = check("dup", dup(x));
	fprintf(ready, "dup_closed_dup %d\n", xd);

	/* Registered, sent unreceived over u2, closed: in no fd at all. */
	fd = check("eventfd", eventfd(0, 0));
	item("inflight", outer, fd, EPOLLIN, 14);
	send_fd(u2[0], fd);
	close(fd);
	close(x);	/* last: nothing allocates an fd after these two closes */
	ready_done_and_wait();
}

static void mode_many(int nproc, unsigned n)
{
	int report[2];
	char line[64];
	FILE *in;

	if (pipe(report))
		die("pipe");
	for (int c = 0; c < nproc; c++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int ep;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(1);
			close(report[0]);
			ep = build_set(n, (uint64_t)c + 1);
			snprintf(line, sizeof(line), "child %d %d\n", getpid(), ep);
			if (write(report[1], line, strlen(line)) < 0)
				_exit(1);
			close(report[1]);
			for (;;)
				pause();
		}
	}
	close(report[1]);
	in = fdopen(report[0], "r");
	for (int c = 0; c < nproc; c++) {
		if (!fgets(line, sizeof(line), in))
			die("a child did not report");
		fputs(line, ready);
	}
	fclose(in);
	ready_done_and_wait();
}

/* ---- churn ---- */

#define BIG 3000
static int big_ep, big_fds[BIG];
static int pool[256];

static void *churn_big(void *arg)
{
	unsigned seed = 1;

	(void)arg;
	for (;;) {
		int i = rand_r(&seed) % BIG;
		struct epoll_event ev = { .events = masks[i % NMASKS], .data.u64 = data_of(0xc0de, i) };

		switch (rand_r(&seed) % 3) {
		case 0:
			epoll_ctl(big_ep, EPOLL_CTL_DEL, big_fds[i], NULL);
			break;
		case 1:
			epoll_ctl(big_ep, EPOLL_CTL_ADD, big_fds[i], &ev);
			break;
		default:
			ev.events = masks[(i + 1) % NMASKS] & ~EPOLLEXCLUSIVE;
			epoll_ctl(big_ep, EPOLL_CTL_MOD, big_fds[i], &ev);
		}
	}
	return NULL;
}

static void *churn_sets(void *arg)
{
	unsigned seed = 2;

	(void)arg;
	for (;;) {
		int ep = epoll_create1(0), inner = epoll_create1(0);

		if (ep < 0 || inner < 0)
			die("epoll_create1");
		for (int i = 0; i < 256; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data_of(0xc0de, i) };

			epoll_ctl(rand_r(&seed) % 2 ? ep : inner, EPOLL_CTL_ADD, pool[i], &ev);
		}
		struct epoll_event nest = { .events = EPOLLIN, .data.u64 = data_of(0xc0de, 0) };
		epoll_ctl(ep, EPOLL_CTL_ADD, inner, &nest);
		for (int i = 0; i < 128; i++)
			epoll_ctl(ep, EPOLL_CTL_DEL, pool[rand_r(&seed) % 256], NULL);
		close(inner);
		close(ep);
	}
	return NULL;
}

static void mode_churn(void)
{
	pthread_t t;

	big_ep = build_set(0, 0);
	for (int i = 0; i < BIG; i++) {
		big_fds[i] = check("eventfd", eventfd(0, 0));
		add(big_ep, big_fds[i], masks[i % NMASKS], data_of(0xc0de, i));
	}
	for (int i = 0; i < 256; i++)
		pool[i] = check("eventfd", eventfd(0, 0));
	fprintf(ready, "big %d\n", big_ep);
	if (pthread_create(&t, NULL, churn_big, NULL) || pthread_create(&t, NULL, churn_sets, NULL))
		die("pthread_create");
	ready_done_and_wait();
	exit(0);	/* the threads never stop by themselves */
}

int main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc == 4 && strcmp(argv[1], "sets") == 0) {
		ready_open(argv[3]);
		mode_sets(argv[2]);
	} else if (argc == 5 && strcmp(argv[1], "packed") == 0) {
		ready_open(argv[4]);
		mode_packed(atoi(argv[2]), (unsigned)atoi(argv[3]));
	} else if (argc == 4 && strcmp(argv[1], "features") == 0) {
		ready_open(argv[3]);
		mode_features(argv[2]);
	} else if (argc == 5 && strcmp(argv[1], "many") == 0) {
		ready_open(argv[4]);
		mode_many(atoi(argv[2]), (unsigned)atoi(argv[3]));
	} else if (argc == 3 && strcmp(argv[1], "churn") == 0) {
		ready_open(argv[2]);
		mode_churn();
	} else {
		fprintf(stderr, "usage: see the comment at the top of spec/epoll_fixture.c\n");
		return 2;
	}
	return 0;
}
