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
	FIELD(inet_record, local_port, F_U32, "local_port"),
	FIELD(inet_record, remote_port, F_U32, "remote_port"),
	FIELD(inet_record, uid, F_U32, "uid"),
	FIELD(inet_record, inode, F_U64, "inode"),
	FIELD(inet_record, rx_queue, F_U32, "rx_queue"),
	FIELD(inet_record, tx_queue, F_U32, "tx_queue"),
	FIELD(inet_record, ifindex, F_U32, "ifindex"),
	FIELD(inet_record, cookie, F_U64, "cookie"),
	FIELD(inet_record, netns, F_U32, "netns"),
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

static const char *const inet_derived[] = {
	"family", "local_address", "remote_address", "state", NULL,
};

const struct target target_tcp = {
	.name = "tcp", .program = "dump_tcp",
	.elf_bytes = tcp_bpf__elf_bytes,
	.record_size = sizeof(struct inet_record),
	.fields = inet_fields, .options = socket_options,
	.derive = tcp_derive, .derived = inet_derived,
};

const struct target target_udp = {
	.name = "udp", .program = "dump_udp",
	.elf_bytes = udp_bpf__elf_bytes,
	.record_size = sizeof(struct inet_record),
	.fields = inet_fields, .options = socket_options,
	.derive = udp_derive, .derived = inet_derived,
};
