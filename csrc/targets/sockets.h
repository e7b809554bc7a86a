/* What the socket targets (tcp, udp, unix, netlink) share in C. */
#ifndef BPFITER_SOCKETS_H
#define BPFITER_SOCKETS_H

#include <stddef.h>

struct option;

/* netns (all, a path, an fd or an inode) for the Lua layer, and the
 * netns_path it resolves that to for the core (see csrc/util/netns.h). */
extern const struct option socket_options[];

/* A TCP_* state (include/net/tcp_states.h) named as ss names it; UDP and
 * unix sockets borrow these states. NULL when the number is unknown. */
static inline const char *ss_state_name(unsigned state)
{
	static const char *const names[] = {
		[1] = "ESTAB", [2] = "SYN-SENT", [3] = "SYN-RECV",
		[4] = "FIN-WAIT-1", [5] = "FIN-WAIT-2", [6] = "TIME-WAIT",
		[7] = "UNCONN", [8] = "CLOSE-WAIT", [9] = "LAST-ACK",
		[10] = "LISTEN", [11] = "CLOSING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}

#endif
