/* Sockets in many network namespaces, held by this one process (a socket
 * stays in the namespace it was created in):
 *
 *   netns_sockets N NSFILE... READY
 *
 * enters each namespace file (/run/netns/NAME) in turn and makes N each of
 * a listening TCP socket, a bound UDP socket, a unix socket and a bound
 * netlink (NETLINK_ROUTE) socket there, then returns to its own namespace,
 * writes "sockets COUNT" to READY and waits for stdin to reach EOF. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include "fixture_ready.h"

static int count;

static void make(int domain, int type, int protocol)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, protocol);

	if (fd < 0)
		die("socket");
	if (domain == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET };	/* any address, any port */

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
		if (type == SOCK_STREAM && listen(fd, 4))
			die("listen");
	} else if (domain == AF_NETLINK) {
		struct sockaddr_nl a = { .nl_family = AF_NETLINK };

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die("bind netlink");
	}
	count++;
}

int main(int argc, char **argv)
{
	int n, self;

	if (argc < 3)
		return 2;
	n = atoi(argv[1]);
	ready_open(argv[argc - 1]);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		die("own netns");
	for (int i = 2; i < argc - 1; i++) {
		int ns = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET))
			die(argv[i]);
		close(ns);
		for (int k = 0; k < n; k++) {
			make(AF_INET, SOCK_STREAM, 0);
			make(AF_INET, SOCK_DGRAM, 0);
			make(AF_UNIX, SOCK_STREAM, 0);
			make(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		}
		if (setns(self, CLONE_NEWNET))
			die("back to own netns");
	}
	fprintf(ready, "sockets %d\n", count);
	ready_done_and_wait();
	return 0;
}
