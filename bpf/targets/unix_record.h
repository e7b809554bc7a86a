#ifndef BPFITER_UNIX_RECORD_H
#define BPFITER_UNIX_RECORD_H
#include "record_common.h"

/* Longest address a unix socket can have: sizeof(sun_path). */
#define UNIX_RECORD_PATH_MAX 108

/* One per unix domain socket; written by unix.bpf.c, decoded by
 * csrc/targets/unix.c. Tail: the bound address's sun_path bytes as the
 * kernel keeps them (a path ends in its NUL; an abstract name starts with
 * NUL and may hold more); none for an unbound socket. */
struct unix_record {
	BPFITER_RECORD_HEAD;
	__u16 type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	__u8 state;		/* TCP_* of tcp_states.h, as af_unix uses them */
	__u8 pad;
	__u32 uid;
	__u32 rx_queue;		/* bytes (dgram: of the next datagram); LISTEN: pending connections */
	__u32 tx_queue;		/* bytes; LISTEN: the maximum backlog */
	__u32 netns;		/* inode of the socket's network namespace */
	__u64 inode;
	__u64 peer_inode;	/* 0: no peer */
	__u64 cookie;
};

#endif
