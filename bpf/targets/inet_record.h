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
	/* tcp only, full sockets (0 for time-wait and request socks), as
	 * tcp_get_info() fills struct tcp_info for ss -ti: */
	__u32 rtt_us;		/* smoothed RTT (srtt_us >> 3) */
	__u32 rttvar_us;	/* mdev_us >> 2 */
	__u32 cwnd;		/* packets */
	__u32 ssthresh;		/* packets; 0x7fffffff: not set (ss omits it) */
	__u32 retrans;		/* segments retransmitted and not yet acked */
	__u32 total_retrans;
	__u64 delivery_rate;	/* bytes per second (ss -ti prints bits) */
	__u64 bytes_acked;
	__u64 bytes_received;
	/* Socket memory as ss -m's skmem:(r,rb,t,tb,f,w,o,bl,d), bytes: */
	__u32 rmem_alloc, rcvbuf, wmem_alloc, sndbuf;
	__u32 fwd_alloc, wmem_queued, optmem, backlog;
	__u32 drops;
	__u32 pad2;
};

#endif
