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

static const struct field inet_fields[] = {
	FIELD(inet_record, local_port, F_U32, "local_port", "", "local port, host byte order; 0 when unset"),
	FIELD(inet_record, remote_port, F_U32, "remote_port", "", "remote port, host byte order; 0 when unset"),
	FIELD(inet_record, uid, F_U32, "uid", "", "owner uid (0 for time-wait sockets)"),
	FIELD(inet_record, inode, F_U64, "inode", "", "socket inode (socket:[N]); 0 when it has no file"),
	FIELD(inet_record, rx_queue, F_U32, "rx_queue", "bytes", "as ss Recv-Q (LISTEN: connections waiting for accept)"),
	FIELD(inet_record, tx_queue, F_U32, "tx_queue", "bytes", "as ss Send-Q (LISTEN: max backlog)"),
	FIELD(inet_record, ifindex, F_U32, "ifindex", "", "bound device index, 0 for none"),
	FIELD(inet_record, cookie, F_U64, "cookie", "", "socket cookie (SO_COOKIE)"),
	FIELD(inet_record, netns, F_U32, "netns", "", "inode of the socket's network namespace (readlink /proc/PID/ns/net)"),
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
	.fields = inet_fields, .options = socket_options,
	.derive = tcp_derive, .derived = inet_derived,
};

const struct target target_udp = {
	.name = "udp", .help = "one record per UDP socket (IPv4 and IPv6) of the caller's network namespace (or those netns names)",
	.program = "dump_udp",
	.elf_bytes = udp_bpf__elf_bytes,
	.record_size = sizeof(struct inet_record),
	.fields = inet_fields, .options = socket_options,
	.derive = udp_derive, .derived = inet_derived,
};
