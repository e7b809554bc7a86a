#ifndef BPFITER_NETLINK_RECORD_H
#define BPFITER_NETLINK_RECORD_H
#include "record_common.h"

/* One per netlink socket; written by netlink.bpf.c, decoded by
 * csrc/targets/netlink.c. No tail. */
struct netlink_record {
	BPFITER_RECORD_HEAD;
	__u32 protocol;		/* NETLINK_ROUTE, ... */
	__u32 portid;		/* 0: a kernel socket, or not bound yet */
	__u32 dst_portid;	/* connected peer; 0: none (or the kernel) */
	__u32 dst_group;
	__u32 groups;		/* multicast groups 1..32: bit N-1 is group N */
	__u32 ngroups;		/* groups the protocol has */
	__u32 rx_queue;		/* bytes charged for receiving (sk_rmem_alloc) */
	__u32 tx_queue;		/* bytes charged for sending */
	__u32 drops;
	__u64 inode;
	__u64 cookie;
	__u32 netns;		/* inode of the socket's network namespace */
	__u32 pad;
};

#endif
