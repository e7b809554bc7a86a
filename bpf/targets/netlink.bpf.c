// SPDX-License-Identifier: GPL-2.0
/* netlink: one record per netlink socket of the walker's network
 * namespace, kernel-side sockets included, from the netlink iterator. */
#include "sock.bpf.h"
#include "netlink_record.h"

BPFITER_SCRATCH(netlink_record)
BPFITER_TARGET("netlink", netlink_record);

SEC("iter/netlink")
int dump_netlink(struct bpf_iter__netlink *ctx)
{
	struct netlink_sock *nlk = ctx->sk;
	struct scratch_slot *s;
	struct netlink_record *r;
	unsigned long groups = 0;
	struct sock *sk;

	BPFITER_FRAME(ctx->meta, nlk);
	if (!nlk)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	sk = &nlk->sk;

	r->protocol = sk->sk_protocol;
	r->netns = sock_netns(&sk->__sk_common);
	r->portid = nlk->portid;
	r->dst_portid = nlk->dst_portid;
	r->dst_group = nlk->dst_group;
	r->ngroups = nlk->ngroups;
	/* The verifier does not let a program index the groups array
	 * directly; the first word is all /proc/net/netlink shows too. */
	if (nlk->groups)
		bpf_probe_read_kernel(&groups, sizeof(groups), nlk->groups);
	r->groups = (__u32)groups;
	r->rx_queue = sk->sk_backlog.rmem_alloc.counter;
	r->tx_queue = sock_wmem(sk);
	if (bpf_core_field_exists(sk->sk_drops))
		r->drops = BPF_CORE_READ(sk, sk_drops.counter);
	r->inode = sock_inode(sk);
	r->cookie = bpf_get_socket_cookie(sk);
	BPFITER_EMIT(ctx->meta->seq, s);
	return 0;
}
