#ifndef BPFITER_INET_RECORD_H
#define BPFITER_INET_RECORD_H
#include "record_common.h"

/* One per TCP or UDP socket (IPv4 and IPv6); written by tcp.bpf.c and
 * udp.bpf.c, decoded by csrc/targets/inet.c. No tail. */
struct inet_record {
	BPFITER_RECORD_HEAD;
	__u16 family;		/* AF_INET or AF_INET6 */
	__u8 state;		/* TCP_* of tcp_states.h; a time-wait sock gives its substate */
	__u8 pad;
	__u32 local_port;	/* host byte order */
	__u32 remote_port;
	__u32 uid;
	__u32 ifindex;		/* device the socket is bound to; 0: none */
	__u32 rx_queue;		/* bytes, or for LISTEN the accept backlog */
	__u32 tx_queue;		/* bytes, or for LISTEN the maximum backlog */
	__u64 inode;
	__u64 cookie;
	__u8 local_addr[16];	/* network byte order; IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	__u32 netns;		/* inode of the socket's network namespace */
	__u32 pad2;
};

#endif
