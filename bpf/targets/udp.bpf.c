// SPDX-License-Identifier: GPL-2.0
/* udp: one record per UDP socket of the walker's network namespace, IPv4
 * and IPv6, from the udp iterator. */
#include "sock.bpf.h"

BPFITER_SCRATCH(inet_record)
BPFITER_TARGET("udp", inet_record);

SEC("iter/udp")
int dump_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct scratch_slot *s;
	struct inet_record *r;
	struct sock *sk;
	int rx;

	BPFITER_FRAME(ctx->meta, udp);
	if (!udp)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	sk = &udp->inet.sk;

	inet_fill(r, &sk->__sk_common);
	r->state = sk->__sk_common.skc_state;
	r->uid = ctx->uid;
	r->inode = sock_inode(sk);
	r->cookie = bpf_get_socket_cookie(sk);
	/* udp_rqueue_get(): memory of queued datagrams, skb overhead
	 * included, less what the reader freed but has not yet credited. */
	rx = sk->sk_backlog.rmem_alloc.counter - udp->forward_deficit;
	r->rx_queue = rx > 0 ? rx : 0;
	r->tx_queue = sock_wmem(sk);
	BPFITER_EMIT(ctx->meta->seq, s);
	return 0;
}
