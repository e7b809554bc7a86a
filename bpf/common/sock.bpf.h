/* Helpers the socket iterator programs (tcp, udp, unix, netlink) share. */
#ifndef BPFITER_SOCK_BPF_H
#define BPFITER_SOCK_BPF_H

#include "iter_common.bpf.h"
#include <bpf/bpf_endian.h>
#include "inet_record.h"

#define AF_INET		2
#define AF_INET6	10

/* The socket's inode number as sock_i_ino() gives it: 0 once the socket
 * has no file (orphaned, or not accepted yet). Newer kernels cache it in
 * the sock; older ones reach it through the struct socket's inode. */
static __always_inline __u64 sock_inode(struct sock *sk)
{
	struct socket *sock;

	if (bpf_core_field_exists(sk->sk_ino))
		return BPF_CORE_READ(sk, sk_ino);
	sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return 0;
	return BPF_CORE_READ(container_of(sock, struct socket_alloc, socket), vfs_inode.i_ino);
}

/* The inode of the socket's network namespace, as ip netns identify and
 * readlink /proc/PID/ns/net show it. */
static __always_inline __u32 sock_netns(struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

/* sk_wmem_alloc_get(): bytes charged for sending, without the reference
 * the socket holds on itself. */
static __always_inline __u32 sock_wmem(struct sock *sk)
{
	int v = sk->sk_wmem_alloc.refs.counter - 1;

	return v > 0 ? v : 0;
}

/* Addresses, ports and bound device: every TCP sock type (full, time-wait,
 * request) and UDP sock keeps them in the sock_common they start with. */
static __always_inline void inet_fill(struct inet_record *r, struct sock_common *skc)
{
	r->family = skc->skc_family;
	r->local_port = skc->skc_num;
	r->remote_port = bpf_ntohs(skc->skc_dport);
	r->ifindex = skc->skc_bound_dev_if;
	r->netns = sock_netns(skc);
	if (r->family == AF_INET6) {
		__builtin_memcpy(r->local_addr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(r->remote_addr, &skc->skc_v6_daddr, 16);
	} else {
		__builtin_memcpy(r->local_addr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r->remote_addr, &skc->skc_daddr, 4);
	}
}

#endif
