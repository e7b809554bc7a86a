// SPDX-License-Identifier: GPL-2.0
/* unix: one record per unix domain socket of the walker's network
 * namespace, from the unix iterator. */
#include "sock.bpf.h"
#include "unix_record.h"

BPFITER_SCRATCH(unix_record)
BPFITER_TARGET("unix", unix_record);

#define SOCK_STREAM	1
#define SOCK_SEQPACKET	5
#define TCP_LISTEN	10
/* Queued messages of a seqpacket socket summed, at most; beyond that the
 * sum is a lower bound. */
#define QUEUE_WALK_MAX	256

/* unix_inq_len(): stream sockets keep a running count on kernels that
 * have inq_len; otherwise (and for seqpacket) the queued skbs are summed,
 * without the queue lock, a partly read one counted whole; a datagram
 * socket reports its next datagram. */
struct unix_sock___inq {
	int inq_len;
} __attribute__((preserve_access_index));

static __always_inline __u32 unix_rx_bytes(struct unix_sock *u)
{
	struct sock *sk = &u->sk;
	struct sk_buff *skb = sk->sk_receive_queue.next;
	__u32 qlen = sk->sk_receive_queue.qlen, sum = 0;

	if (!qlen)
		return 0;
	if (sk->sk_type == SOCK_STREAM && bpf_core_field_exists(((struct unix_sock___inq *)u)->inq_len))
		return BPF_CORE_READ((struct unix_sock___inq *)u, inq_len);
	if (sk->sk_type != SOCK_STREAM && sk->sk_type != SOCK_SEQPACKET)
		return skb ? skb->len : 0;
	for (int i = 0; i < QUEUE_WALK_MAX; i++) {
		if (i >= qlen || !skb)
			break;
		sum += skb->len;
		skb = skb->next;
	}
	return sum;
}

SEC("iter/unix")
int dump_unix(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	struct unix_address *addr;
	struct scratch_slot *s;
	struct unix_record *r;
	struct sock *sk, *peer;
	__u64 len;

	BPFITER_FRAME(ctx->meta, u);
	if (!u)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	sk = &u->sk;

	r->type = sk->sk_type;
	r->state = sk->__sk_common.skc_state;
	r->uid = ctx->uid;
	r->inode = sock_inode(sk);
	r->cookie = bpf_get_socket_cookie(sk);
	peer = u->peer;
	if (peer)
		r->peer_inode = sock_inode(peer);
	/* As unix_diag reports them (ss -x). */
	if (r->state == TCP_LISTEN) {
		r->rx_queue = sk->sk_receive_queue.qlen;
		r->tx_queue = sk->sk_max_ack_backlog;
	} else {
		r->rx_queue = unix_rx_bytes(u);
		r->tx_queue = sock_wmem(sk);
	}

	addr = u->addr;
	if (addr) {
		/* 64-bit all along: clang must not bound one copy of the length
		 * and pass another to the helper. */
		len = (__u32)addr->len;
		len = len > sizeof(short) ? len - sizeof(short) : 0;	/* less sun_family */
		if (len > UNIX_RECORD_PATH_MAX)
			len = UNIX_RECORD_PATH_MAX;
		barrier_var(len);
		if (len && bpf_probe_read_kernel(s->tail, len, addr->name[0].sun_path) == 0)
			r->tail_len = len;
	}
	BPFITER_EMIT(ctx->meta->seq, s);
	return 0;
}
