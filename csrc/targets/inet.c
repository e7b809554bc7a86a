/* tcp and udp: one record per socket, IPv4 and IPv6 (tcp and udp
 * iterators). Both programs write the same record. */
#include "target.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <lauxlib.h>

#include "inet_record.h"
#include "sockets.h"
#include "tcp.skel.h"
#include "udp.skel.h"

#define INET_FIELDS							\
	FIELD(inet_record, local_port, F_U32, "local_port", "", "local port, host byte order; 0 when unset"),	\
	FIELD(inet_record, remote_port, F_U32, "remote_port", "", "remote port, host byte order; 0 when unset"),	\
	FIELD(inet_record, uid, F_U32, "uid", "", "owner uid (0 for time-wait sockets)"),	\
	FIELD(inet_record, inode, F_U64, "inode", "", "socket inode (socket:[N]); 0 when it has no file"),	\
	FIELD(inet_record, rx_queue, F_U32, "rx_queue", "bytes", "as ss Recv-Q (LISTEN: connections waiting for accept)"),	\
	FIELD(inet_record, tx_queue, F_U32, "tx_queue", "bytes", "as ss Send-Q (LISTEN: max backlog)"),	\
	FIELD(inet_record, ifindex, F_U32, "ifindex", "", "bound device index, 0 for none"),	\
	FIELD(inet_record, cookie, F_U64, "cookie", "", "socket cookie (SO_COOKIE)"),	\
	FIELD(inet_record, netns, F_U32, "netns", "", "inode of the socket's network namespace (readlink /proc/PID/ns/net)")

static const struct field udp_fields[] = {
	INET_FIELDS,
	FIELDS_END,
};

/* ss -ti and ss -m: filled for full sockets only (inet_record.h). */
static const struct field tcp_fields[] = {
	INET_FIELDS,
	FIELD(inet_record, rtt_us, F_U32, "rtt_us", "", "smoothed round-trip time in microseconds (ss -ti rtt)"),
	FIELD(inet_record, rttvar_us, F_U32, "rttvar_us", "", "round-trip time variation in microseconds (ss -ti rttvar)"),
	FIELD(inet_record, cwnd, F_U32, "cwnd", "count", "congestion window, packets"),
	FIELD(inet_record, ssthresh, F_U32, "ssthresh", "count", "slow-start threshold, packets; 2147483647: not set"),
	FIELD(inet_record, retrans, F_U32, "retrans", "count", "segments retransmitted and not yet acknowledged"),
	FIELD(inet_record, total_retrans, F_U32, "total_retrans", "count", "segments retransmitted over the connection"),
	FIELD(inet_record, delivery_rate, F_U64, "delivery_rate", "", "delivery rate in bytes per second (ss -ti prints bits)"),
	FIELD(inet_record, bytes_acked, F_U64, "bytes_acked", "bytes", "bytes acknowledged by the peer"),
	FIELD(inet_record, bytes_received, F_U64, "bytes_received", "bytes", "bytes received"),
	FIELD(inet_record, rmem_alloc, F_U32, "rmem_alloc", "bytes", "receive memory allocated (ss -m r)"),
	FIELD(inet_record, rcvbuf, F_U32, "rcvbuf", "bytes", "receive buffer size (ss -m rb)"),
	FIELD(inet_record, wmem_alloc, F_U32, "wmem_alloc", "bytes", "transmit memory allocated (ss -m t)"),
	FIELD(inet_record, sndbuf, F_U32, "sndbuf", "bytes", "send buffer size (ss -m tb)"),
	FIELD(inet_record, fwd_alloc, F_U32, "fwd_alloc", "bytes", "memory forward-allocated (ss -m f)"),
	FIELD(inet_record, wmem_queued, F_U32, "wmem_queued", "bytes", "memory queued for sending (ss -m w)"),
	FIELD(inet_record, optmem, F_U32, "optmem", "bytes", "option memory (ss -m o)"),
	FIELD(inet_record, backlog, F_U32, "backlog", "bytes", "backlog queue memory (ss -m bl)"),
	FIELD(inet_record, drops, F_U32, "drops", "count", "packets dropped before reaching the socket (ss -m d)"),
	FIELDS_END,
};

/* The kernel's names for TCP states (tcp_states.h), as /proc/net/tcp's
 * numbers mean them. */
static const char *tcp_state_name(unsigned state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
		[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
		[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
		[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
		[13] = "BOUND_INACTIVE",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}

static void push_address(lua_State *L, int af, const unsigned char *addr, const char *key)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(af, addr, text, sizeof(text))) {
		lua_pushstring(L, text);
		lua_setfield(L, -2, key);
	}
}

static void inet_derive(lua_State *L, const struct inet_record *r, const char *state)
{
	int af = r->family == AF_INET6 ? AF_INET6 : AF_INET;

	lua_pushstring(L, af == AF_INET6 ? "inet6" : "inet");
	lua_setfield(L, -2, "family");
	push_address(L, af, r->local_addr, "local_address");
	push_address(L, af, r->remote_addr, "remote_address");
	lua_pushstring(L, state ? state : "UNKNOWN");
	lua_setfield(L, -2, "state");
}

static void tcp_derive(lua_State *L, const void *rec)
{
	const struct inet_record *r = rec;

	inet_derive(L, r, tcp_state_name(r->state));
}

static void udp_derive(lua_State *L, const void *rec)
{
	const struct inet_record *r = rec;

	inet_derive(L, r, ss_state_name(r->state));
}

static const struct derived_field inet_derived[] = {
	DERIVED("family", "string", "", "inet or inet6"),
	DERIVED("local_address", "string", "", "local address, e.g. 127.0.0.1 or ::1"),
	DERIVED("remote_address", "string", "", "remote address; wildcard 0.0.0.0 or ::"),
	DERIVED("state", "string", "", "tcp: LISTEN, ESTABLISHED, TIME_WAIT, ...; udp: UNCONN or ESTAB"),
	DERIVED_END,
};

const struct target target_tcp = {
	.name = "tcp", .help = "one record per TCP socket (IPv4 and IPv6) of the caller's network namespace (or those netns names)",
	.program = "dump_tcp",
	.elf_bytes = tcp_bpf__elf_bytes,
	.record_size = sizeof(struct inet_record),
	.fields = tcp_fields, .options = socket_options,
	.derive = tcp_derive, .derived = inet_derived,
};

const struct target target_udp = {
	.name = "udp", .help = "one record per UDP socket (IPv4 and IPv6) of the caller's network namespace (or those netns names)",
	.program = "dump_udp",
	.elf_bytes = udp_bpf__elf_bytes,
	.record_size = sizeof(struct inet_record),
	.fields = udp_fields, .options = socket_options,
	.derive = udp_derive, .derived = inet_derived,
};
