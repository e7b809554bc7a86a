/* Ground truth for the socket specs (spec/10-sockets_spec.lua): builds a
 * known set of sockets, writes what it built to READY (one "key value..."
 * line each, renamed into place when complete), then waits until its stdin
 * reaches EOF and exits. It dies with its parent.
 *
 *   sockets all DIR READY    TCP and UDP on loopback (IPv6 too when ::1
 *                            works), unix sockets bound in DIR and to an
 *                            abstract name, netlink sockets
 *   sockets states READY     TCP in TIME_WAIT, FIN_WAIT2 (both time-wait
 *                            socks), CLOSE_WAIT and SYN_RECV (a request
 *                            sock); meant for a network namespace of its
 *                            own, where they vanish with the namespace
 *   sockets many KIND N DIR READY
 *                            about N sockets of KIND (unix, tcp, udp,
 *                            netlink) for the walks at scale, every type
 *                            and address kind of KIND in turn; writes
 *                            "INODE LABEL" lines to DIR/inodes and names
 *                            that file and the count in READY
 *
 * Every queue is left in a state that no longer changes: data written is
 * acknowledged (SIOCOUTQ 0) and sits unread (SIOCINQ) before READY exists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define OWNER_UID 65534		/* fchown()ed sockets: sk_uid follows the inode */

#include "fixture_ready.h"

static unsigned long inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return (unsigned long)st.st_ino;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (up to 10 s) until ioctl req on fd gives want. */
static void wait_ioctl(int fd, unsigned long req, int want, const char *what)
{
	int v = -1;

	for (int i = 0; i < 10000; i++) {
		if (ioctl(fd, req, &v))
			die(what);
		if (v == want)
			return;
		pause_ms(1);
	}
	fprintf(stderr, "%s: %d, expected %d\n", what, v, want);
	exit(1);
}

static void send_all(int fd, size_t n)
{
	char buf[512];

	memset(buf, 'x', sizeof(buf));
	if (n > sizeof(buf) || write(fd, buf, n) != (ssize_t)n)
		die("write");
}

/* ---- TCP and UDP ---- */

union inet_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static socklen_t loopback(int af, union inet_addr *a, int port)
{
	memset(a, 0, sizeof(*a));
	if (af == AF_INET6) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_addr = in6addr_loopback;
		a->in6.sin6_port = htons(port);
		return sizeof(a->in6);
	}
	a->in.sin_family = AF_INET;
	a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->in.sin_port = htons(port);
	return sizeof(a->in);
}

static int port_of(int fd)
{
	union inet_addr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len))
		die("getsockname");
	return ntohs(a.sa.sa_family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
}

/* Closing sends a reset instead of a FIN, so when the fixture exits its
 * connections leave no TIME_WAIT socks behind in the namespace. */
static int abort_on_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die("SO_LINGER");
	return fd;
}

static int tcp_listener(int af, int backlog)
{
	union inet_addr a;
	socklen_t len = loopback(af, &a, 0);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, &a.sa, len) || listen(fd, backlog))
		die("tcp listener");
	return fd;
}

static int tcp_connect(int af, int port)
{
	union inet_addr a;
	socklen_t len = loopback(af, &a, port);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, &a.sa, len))
		die("tcp connect");
	return fd;
}

/* A listener with one accepted connection whose server side holds `unread`
 * bytes, and one connection left in the accept queue. */
static void tcp_family(int af, const char *name, size_t unread)
{
	int l = tcp_listener(af, 7);
	int c = abort_on_close(tcp_connect(af, port_of(l)));
	int s = abort_on_close(accept(l, NULL, NULL));
	int p;

	if (fchown(c, OWNER_UID, -1))
		die("fchown");
	send_all(c, unread);
	wait_ioctl(s, SIOCINQ, (int)unread, "SIOCINQ");
	wait_ioctl(c, SIOCOUTQ, 0, "SIOCOUTQ");
	p = abort_on_close(tcp_connect(af, port_of(l)));
	/* the handshake is done once the listener counts it */
	for (int i = 0; i < 10000; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len))
			die("TCP_INFO");
		if (ti.tcpi_unacked == 1)	/* a listener's accept backlog */
			break;
		pause_ms(1);
	}
	fprintf(ready, "%s_listen %d %lu 1 7\n", name, port_of(l), inode_of(l));
	fprintf(ready, "%s_client %d %lu %d\n", name, port_of(c), inode_of(c), OWNER_UID);
	fprintf(ready, "%s_server %d %lu %zu\n", name, port_of(s), inode_of(s), unread);
	fprintf(ready, "%s_pending %d %lu\n", name, port_of(p), inode_of(p));
}

/* An IPv6 socket talking IPv4 through a v4-mapped address. */
static void tcp_mapped(void)
{
	int l = tcp_listener(AF_INET, 1);
	union inet_addr a = { .in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port_of(l)) } };
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	int s, off = 0;

	if (c < 0)
		return;		/* no IPv6 at all */
	/* net.ipv6.bindv6only=1 would make it refuse IPv4 peers */
	if (setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		die("IPV6_V6ONLY");
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.in6.sin6_addr);
	if (connect(abort_on_close(c), &a.sa, sizeof(a.in6)))
		die("connect v4-mapped");
	s = abort_on_close(accept(l, NULL, NULL));
	fprintf(ready, "tcp_mapped %d %lu %d %lu\n", port_of(c), inode_of(c), port_of(l), inode_of(s));
}

static int udp_bound(int af)
{
	union inet_addr a;
	socklen_t len = loopback(af, &a, 0);
	int fd = socket(af, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, &a.sa, len))
		die("udp bind");
	return fd;
}

/* Bytes charged to a socket for what it received (sk_rmem_alloc). */
static unsigned receive_memory(int fd)
{
	__u32 mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		die("SO_MEMINFO");
	return mem[SK_MEMINFO_RMEM_ALLOC];
}

/* An unconnected socket bound to lo holding two datagrams, and the
 * connected socket that sent them. */
static void udp_family(int af, const char *name)
{
	int b = udp_bound(af), k = udp_bound(af);
	union inet_addr a;
	socklen_t len = loopback(af, &a, port_of(b));
	unsigned rmem;

	if (setsockopt(b, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3))
		die("SO_BINDTODEVICE");
	if (connect(k, &a.sa, len))
		die("udp connect");
	if (fchown(k, OWNER_UID, -1))
		die("fchown");
	send_all(k, 50);
	wait_ioctl(b, SIOCINQ, 50, "SIOCINQ udp");	/* the first datagram is in */
	rmem = receive_memory(b);
	send_all(k, 70);
	for (int i = 0; i < 10000 && receive_memory(b) == rmem; i++)
		pause_ms(1);				/* and the second */
	wait_ioctl(k, SIOCOUTQ, 0, "SIOCOUTQ udp");
	fprintf(ready, "%s_bound %d %lu %u\n", name, port_of(b), inode_of(b), if_nametoindex("lo"));
	fprintf(ready, "%s_connected %d %lu %d\n", name, port_of(k), inode_of(k), OWNER_UID);
}

static int ipv6_loopback_works(void)
{
	union inet_addr a;
	socklen_t len = loopback(AF_INET6, &a, 0);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	int ok = fd >= 0 && bind(fd, &a.sa, len) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---- unix ---- */

static socklen_t unix_path(struct sockaddr_un *a, const char *dir, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static void unix_sockets(const char *dir)
{
	struct sockaddr_un a, abs;
	socklen_t len, abs_len;
	char name[64];
	int l, c, s, p, ua, ud, q[2];

	/* A stream listener with one accepted connection (10 bytes unread on
	 * the server side) and one still queued. */
	len = unix_path(&a, dir, "stream.sock");
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, len) || listen(l, 4))
		die("unix listen");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, len))
		die("unix connect");
	s = accept(l, NULL, NULL);
	p = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || p < 0 || connect(p, (struct sockaddr *)&a, len))
		die("unix connect 2");
	if (fchown(c, OWNER_UID, -1))
		die("fchown");
	send_all(c, 10);
	fprintf(ready, "unix_listen %lu %s 1 4\n", inode_of(l), a.sun_path);
	fprintf(ready, "unix_client %lu %d\n", inode_of(c), OWNER_UID);
	fprintf(ready, "unix_server %lu 10\n", inode_of(s));
	fprintf(ready, "unix_pending %lu\n", inode_of(p));

	/* A datagram socket with an abstract name holding a NUL inside, and a
	 * path-bound one connected to it that sent it 33 and 44 bytes. */
	memset(&abs, 0, sizeof(abs));
	abs.sun_family = AF_UNIX;
	snprintf(name, sizeof(name), "bpfiter-%d", getpid());
	memcpy(abs.sun_path + 1, name, strlen(name));
	memcpy(abs.sun_path + 1 + strlen(name), "\0x", 2);
	abs_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name) + 2);
	ua = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (ua < 0 || bind(ua, (struct sockaddr *)&abs, abs_len))
		die("unix abstract bind");
	len = unix_path(&a, dir, "dgram.sock");
	ud = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (ud < 0 || bind(ud, (struct sockaddr *)&a, len) ||
	    connect(ud, (struct sockaddr *)&abs, abs_len))
		die("unix dgram");
	send_all(ud, 33);
	send_all(ud, 44);
	fprintf(ready, "unix_abstract %lu @%s@x 33\n", inode_of(ua), name);
	fprintf(ready, "unix_dgram %lu %s\n", inode_of(ud), a.sun_path);

	/* An unnamed seqpacket pair; two messages (10 + 20 bytes) wait in q[1]. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, q))
		die("socketpair");
	send_all(q[0], 10);
	send_all(q[0], 20);
	fprintf(ready, "unix_seq %lu %lu 30\n", inode_of(q[0]), inode_of(q[1]));
}

/* ---- netlink ---- */

static int netlink_bound(unsigned groups, unsigned *portid)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };
	socklen_t len = sizeof(a);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		die("netlink");
	*portid = a.nl_pid;
	return fd;
}

/* Two route sockets: one subscribed to link and IPv4 address events, one
 * connected to it that sent it a message it has not read. The message is
 * for that socket, not the kernel, so nothing answers it. */
static void netlink_sockets(void)
{
	struct sockaddr_nl dst = { .nl_family = AF_NETLINK };
	struct nlmsghdr msg = { .nlmsg_len = sizeof(msg), .nlmsg_type = NLMSG_NOOP };
	unsigned groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR, p1, p2;
	int n1 = netlink_bound(groups, &p1), n2 = netlink_bound(0, &p2);

	dst.nl_pid = p1;
	if (connect(n2, (struct sockaddr *)&dst, sizeof(dst)) ||
	    send(n2, &msg, sizeof(msg), 0) != (ssize_t)sizeof(msg))
		die("netlink send");
	fprintf(ready, "netlink_subscribed %lu %u %u\n", inode_of(n1), p1, groups);
	fprintf(ready, "netlink_connected %lu %u %u\n", inode_of(n2), p2, p1);
}

static void mode_all(const char *dir)
{
	tcp_family(AF_INET, "tcp4", 100);
	udp_family(AF_INET, "udp4");
	if (ipv6_loopback_works()) {
		tcp_family(AF_INET6, "tcp6", 200);
		udp_family(AF_INET6, "udp6");
		fprintf(ready, "ipv6 1\n");
	} else {
		fprintf(ready, "ipv6 0\n");
	}
	tcp_mapped();
	unix_sockets(dir);
	netlink_sockets();
	ready_done_and_wait();
}

/* ---- TCP states that need a connection to end (or not start) ---- */

/* The state /proc/net/tcp gives the IPv4 socket with this local port and
 * remote port, or -1. */
static int proc_tcp_state(int lport, int rport)
{
	char line[512];
	int st = -1;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		die("/proc/net/tcp");
	while (fgets(line, sizeof(line), f)) {
		unsigned lp, rp, state;

		if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &lp, &rp, &state) == 3 &&
		    (int)lp == lport && (int)rp == rport)
			st = (int)state;
	}
	fclose(f);
	return st;
}

static void wait_tcp_state(int lport, int rport, int want, const char *what)
{
	for (int i = 0; i < 10000; i++) {
		if (proc_tcp_state(lport, rport) == want)
			return;
		pause_ms(1);
	}
	fprintf(stderr, "%s: state %d, expected %d\n", what, proc_tcp_state(lport, rport), want);
	exit(1);
}

static void mode_states(void)
{
	int l = tcp_listener(AF_INET, 8), lport = port_of(l);
	int defer = 60, c, s, cport, sport, dl;

	/* Active close answered: the client ends in TIME_WAIT. */
	c = tcp_connect(AF_INET, lport);
	s = accept(l, NULL, NULL);
	cport = port_of(c);
	close(c);
	wait_tcp_state(lport, cport, 8, "CLOSE_WAIT");
	close(s);
	wait_tcp_state(cport, lport, 6, "TIME_WAIT");
	fprintf(ready, "time_wait %d %d\n", cport, lport);

	/* Active close not answered: the orphaned client waits in FIN_WAIT2
	 * (as a time-wait sock), the server sits in CLOSE_WAIT. */
	c = tcp_connect(AF_INET, lport);
	s = accept(l, NULL, NULL);
	cport = port_of(c);
	sport = port_of(s);
	close(c);
	wait_tcp_state(cport, lport, 5, "FIN_WAIT2");
	wait_tcp_state(lport, cport, 8, "CLOSE_WAIT");
	fprintf(ready, "fin_wait2 %d %d\n", cport, lport);
	fprintf(ready, "close_wait %d %d %lu\n", sport, cport, inode_of(s));

	/* TCP_DEFER_ACCEPT keeps a connection that sent no data a request
	 * sock (SYN_RECV) although the client already counts it established. */
	dl = tcp_listener(AF_INET, 8);
	if (setsockopt(dl, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)))
		die("TCP_DEFER_ACCEPT");
	c = tcp_connect(AF_INET, port_of(dl));
	wait_tcp_state(port_of(dl), port_of(c), 3, "SYN_RECV");
	fprintf(ready, "syn_recv %d %d\n", port_of(dl), port_of(c));
	fprintf(ready, "listen %d %lu\n", lport, inode_of(l));
	fprintf(ready, "defer_listen %d %lu\n", port_of(dl), inode_of(dl));
	fprintf(ready, "defer_client %d %lu\n", port_of(c), inode_of(c));
	ready_done_and_wait();
}

/* ---- many sockets, for the walks at scale ---- */

static FILE *inodes;
static long made;

static void record(int fd, const char *label)
{
	fprintf(inodes, "%lu %s\n", inode_of(fd), label);
	made++;
}

static int unix_bound(int type, const struct sockaddr_un *a, socklen_t len, int backlog)
{
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)a, len) || (backlog && listen(fd, backlog)))
		die("unix bind");
	return fd;
}

/* A listener at a, a client connected to it and the accepted server. */
static void unix_connection(int type, const struct sockaddr_un *a, socklen_t len, const char *label)
{
	int l = unix_bound(type, a, len, 1), c = socket(AF_UNIX, type, 0), s;
	char name[64];

	if (c < 0 || connect(c, (const struct sockaddr *)a, len) || (s = accept(l, NULL, NULL)) < 0)
		die("unix connection");
	snprintf(name, sizeof(name), "%s_listen", label);
	record(l, name);
	snprintf(name, sizeof(name), "%s_client", label);
	record(c, name);
	snprintf(name, sizeof(name), "%s_server", label);
	record(s, name);
}

static socklen_t unix_abstract(struct sockaddr_un *a, long i)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "bpfiter-%d-%ld", getpid(), i);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1));
}

/* One of each kind in turn: pairs of every type, stream and seqpacket
 * listeners (path and abstract) with a connection each, bound and unbound
 * datagram and stream sockets. */
static void many_unix(long n, const char *dir)
{
	static const struct { int type; const char *label; } pairs[] = {
		{ SOCK_STREAM, "stream_pair" }, { SOCK_DGRAM, "dgram_pair" },
		{ SOCK_SEQPACKET, "seqpacket_pair" },
	};
	struct sockaddr_un a;
	socklen_t len;
	char name[32];
	int sv[2];

	for (long i = 0; made < n; i++) {
		for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
			if (socketpair(AF_UNIX, pairs[k].type, 0, sv))
				die("socketpair");
			record(sv[0], pairs[k].label);
			record(sv[1], pairs[k].label);
		}
		snprintf(name, sizeof(name), "s%ld", i);
		unix_connection(SOCK_STREAM, &a, unix_path(&a, dir, name), "stream_path");
		len = unix_abstract(&a, 3 * i);
		unix_connection(SOCK_SEQPACKET, &a, len, "seqpacket_abstract");
		len = unix_abstract(&a, 3 * i + 1);
		record(unix_bound(SOCK_DGRAM, &a, len, 0), "dgram_abstract");
		snprintf(name, sizeof(name), "d%ld", i);
		len = unix_path(&a, dir, name);
		record(unix_bound(SOCK_DGRAM, &a, len, 0), "dgram_path");
		int u = socket(AF_UNIX, SOCK_STREAM, 0);

		if (u < 0)
			die("socket");
		record(u, "stream_unbound");
	}
}

/* TCP: listeners on loopback, each with connections (client and accepted
 * server); IPv4 and IPv6 (when ::1 works) in turn. */
static void many_tcp(long n)
{
	int v6 = ipv6_loopback_works();

	for (long i = 0; made < n; i++) {
		int af = v6 && (i & 1) ? AF_INET6 : AF_INET;
		int l = tcp_listener(af, 64);

		record(l, af == AF_INET ? "tcp4_listen" : "tcp6_listen");
		for (int k = 0; k < 32 && made < n; k++) {
			int c = abort_on_close(tcp_connect(af, port_of(l)));
			int s = abort_on_close(accept(l, NULL, NULL));

			if (s < 0)
				die("accept");
			record(c, af == AF_INET ? "tcp4_client" : "tcp6_client");
			record(s, af == AF_INET ? "tcp4_server" : "tcp6_server");
		}
	}
}

/* UDP: bound to loopback (unbound sockets are in no table), every fourth
 * one connected to the one before. */
static void many_udp(long n)
{
	int v6 = ipv6_loopback_works(), prev = -1;

	for (long i = 0; made < n; i++) {
		int af = v6 && (i & 1) ? AF_INET6 : AF_INET;
		int fd = udp_bound(af);

		if (i % 4 == 3 && prev >= 0) {
			union inet_addr a;
			socklen_t len = loopback(AF_INET, &a, port_of(prev));

			if (connect(fd, &a.sa, len) && af == AF_INET)
				die("udp connect");
		}
		record(fd, af == AF_INET ? "udp4" : "udp6");
		if (af == AF_INET)
			prev = fd;
	}
}

/* netlink: bound (autobound) sockets of several protocols; unbound ones
 * are in no table. */
static void many_netlink(long n)
{
	static const struct { int protocol; const char *label; } protos[] = {
		{ NETLINK_ROUTE, "route" }, { NETLINK_SOCK_DIAG, "sock_diag" },
		{ NETLINK_GENERIC, "generic" },
	};

	for (long i = 0; made < n; i++) {
		struct sockaddr_nl a = { .nl_family = AF_NETLINK };
		int k = (int)(i % 3);
		int fd = socket(AF_NETLINK, SOCK_RAW, protos[k].protocol);

		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die("netlink bind");
		record(fd, protos[k].label);
	}
}

static void mode_many(const char *kind, long n, const char *dir)
{
	struct rlimit rl;
	char path[4200];

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(path, sizeof(path), "%s/inodes", dir);
	inodes = fopen(path, "w");
	if (!inodes)
		die("inodes file");
	if (strcmp(kind, "unix") == 0)
		many_unix(n, dir);
	else if (strcmp(kind, "tcp") == 0)
		many_tcp(n);
	else if (strcmp(kind, "udp") == 0)
		many_udp(n);
	else if (strcmp(kind, "netlink") == 0)
		many_netlink(n);
	else
		die("kind");
	if (fclose(inodes))
		die("inodes file");
	fprintf(ready, "inodes %s %ld\n", path, made);
	ready_done_and_wait();
}

int main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "all") == 0) {
		ready_open(argv[3]);
		mode_all(argv[2]);
	} else if (argc == 6 && strcmp(argv[1], "many") == 0) {
		ready_open(argv[5]);
		mode_many(argv[2], atol(argv[3]), argv[4]);
	} else if (argc == 3 && strcmp(argv[1], "states") == 0) {
		ready_open(argv[2]);
		mode_states();
	} else {
		fprintf(stderr, "usage: see the comment at the top of spec/sockets.c\n");
		return 2;
	}
	return 0;
}
